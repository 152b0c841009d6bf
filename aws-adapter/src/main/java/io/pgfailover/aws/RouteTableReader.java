package io.pgfailover.aws;

import io.pgfailover.aws.internal.Ipv4Cidr;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import software.amazon.awssdk.services.ec2.model.DescribeRouteTablesResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Route;
import software.amazon.awssdk.services.ec2.model.RouteTable;

/** Reads route tables in one DescribeRouteTables call and finds their virtual-IP route. */
final class RouteTableReader {
  private static final Pattern ROUTE_TABLE_ID = Pattern.compile("rtb-[0-9a-f]{8,17}");

  private RouteTableReader() {}

  /**
   * The tables that exist, by id. Filters on {@code route-table-id} rather than listing the ids:
   * with ids, one unknown table fails the whole call; with the filter, a missing table is simply
   * not in the answer.
   */
  static Map<String, RouteTable> describe(
      AwsClients clients, List<String> ids, AtomicInteger attempts) {
    return describe(clients, ids, attempts, clients.settings().retryDeadline());
  }

  static Map<String, RouteTable> describe(
      AwsClients clients,
      List<String> ids,
      AtomicInteger attempts,
      java.time.Duration retryDeadline) {
    Filter byId = Filter.builder().name("route-table-id").values(ids).build();
    Map<String, RouteTable> found = new LinkedHashMap<>();
    clients
        .callPages(
            "ec2:DescribeRouteTables",
            String.join(",", ids),
            attempts,
            retryDeadline,
            token -> clients.ec2().describeRouteTables(r -> r.filters(byId).nextToken(token)),
            DescribeRouteTablesResponse::nextToken)
        .forEach(page -> page.routeTables().forEach(t -> found.put(t.routeTableId(), t)));
    return found;
  }

  /** The virtual-IP route of each requested table, in the requested order. */
  static Map<String, RouteState> read(
      AwsClients clients, String vipCidr, List<String> ids, AtomicInteger attempts) {
    return read(clients, vipCidr, ids, attempts, clients.settings().retryDeadline());
  }

  static Map<String, RouteState> read(
      AwsClients clients,
      String vipCidr,
      List<String> ids,
      AtomicInteger attempts,
      java.time.Duration retryDeadline) {
    Map<String, RouteTable> tables = describe(clients, ids, attempts, retryDeadline);
    Map<String, RouteState> states = new LinkedHashMap<>();
    for (String id : ids) {
      RouteTable table = tables.get(id);
      states.put(id, table == null ? RouteState.tableMissing(id) : vipRoute(table, vipCidr));
    }
    return states;
  }

  static RouteState vipRoute(RouteTable table, String vipCidr) {
    for (Route route : table.routes()) {
      if (vipCidr.equals(route.destinationCidrBlock())) {
        RouteState.Status status =
            "blackhole".equals(route.stateAsString())
                ? RouteState.Status.BLACKHOLE
                : RouteState.Status.ACTIVE;
        Optional<String> other =
            Stream.of(
                    route.gatewayId(),
                    route.natGatewayId(),
                    route.transitGatewayId(),
                    route.vpcPeeringConnectionId(),
                    route.egressOnlyInternetGatewayId(),
                    route.localGatewayId(),
                    route.carrierGatewayId(),
                    route.coreNetworkArn())
                .filter(s -> s != null && !s.isEmpty())
                .findFirst();
        return new RouteState(
            table.routeTableId(),
            status,
            nonEmpty(route.networkInterfaceId()),
            nonEmpty(route.instanceId()),
            other);
      }
    }
    return RouteState.absent(table.routeTableId());
  }

  /**
   * The virtual IP as EC2 writes it in routes; an error naming the field if it is not an IPv4 CIDR.
   */
  static String canonicalVip(String vipCidr) {
    try {
      return Ipv4Cidr.parse(vipCidr).toString();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("vipCidr: " + e.getMessage(), e);
    }
  }

  /** Route table ids, checked: non-empty, well-formed, no duplicates. */
  static List<String> checkIds(List<String> ids) {
    if (ids == null || ids.isEmpty()) {
      throw new IllegalArgumentException("routeTableIds: give at least one route table id (rtb-…)");
    }
    Set<String> seen = new HashSet<>();
    List<String> checked = new ArrayList<>();
    for (String id : ids) {
      if (id == null || !ROUTE_TABLE_ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "routeTableIds: '" + id + "' is not a route table id like rtb-0123abcd");
      }
      if (!seen.add(id)) {
        throw new IllegalArgumentException("routeTableIds: " + id + " is listed twice");
      }
      checked.add(id);
    }
    return List.copyOf(checked);
  }

  private static Optional<String> nonEmpty(String s) {
    return s == null || s.isEmpty() ? Optional.empty() : Optional.of(s);
  }
}
