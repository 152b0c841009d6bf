package io.pgfailover.aws;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.ec2.model.DescribeInstancesResponse;
import software.amazon.awssdk.services.ec2.model.Filter;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceAttributeName;
import software.amazon.awssdk.services.ec2.model.InstanceNetworkInterface;
import software.amazon.awssdk.services.ec2.model.Reservation;
import software.amazon.awssdk.services.ec2.model.RouteTable;

/** What the controller needs to know about its instances and route tables. Read-only. */
public final class Ec2Discovery {
  private final AwsClients clients;

  public Ec2Discovery(AwsClients clients) {
    this.clients = Objects.requireNonNull(clients, "clients");
  }

  /**
   * An instance's primary ENI, private IP, AZ, subnet, VPC, state and source/dest check.
   *
   * @throws AwsCallException VALIDATION ({@code InvalidInstanceID.NotFound}) for an unknown
   *     instance
   */
  public InstanceInfo describeInstance(String instanceId) {
    AtomicInteger calls = new AtomicInteger();
    return toInfo(instance(clients, instanceId, calls), calls);
  }

  /**
   * One instance as EC2 describes it.
   *
   * @throws AwsCallException VALIDATION ({@code InvalidInstanceID.NotFound}) for an unknown
   *     instance
   */
  static Instance instance(AwsClients clients, String instanceId, AtomicInteger calls) {
    List<Instance> found =
        clients
            .call(
                "ec2:DescribeInstances",
                instanceId,
                calls,
                () -> clients.ec2().describeInstances(r -> r.instanceIds(instanceId)))
            .reservations()
            .stream()
            .flatMap(r -> r.instances().stream())
            .toList();
    if (found.isEmpty()) {
      throw notFound("ec2:DescribeInstances", "InvalidInstanceID.NotFound", "instance", instanceId);
    }
    return found.get(0);
  }

  /**
   * A route table's VPC and where its virtual-IP route points.
   *
   * @throws AwsCallException VALIDATION ({@code InvalidRouteTableID.NotFound}) for an unknown table
   */
  public RouteTableInfo describeRouteTable(String routeTableId, String vipCidr) {
    String vip = RouteTableReader.canonicalVip(vipCidr);
    List<RouteTable> found =
        clients
            .call(
                "ec2:DescribeRouteTables",
                routeTableId,
                new AtomicInteger(),
                () -> clients.ec2().describeRouteTables(r -> r.routeTableIds(routeTableId)))
            .routeTables();
    if (found.isEmpty()) {
      throw notFound(
          "ec2:DescribeRouteTables", "InvalidRouteTableID.NotFound", "route table", routeTableId);
    }
    RouteTable table = found.get(0);
    return new RouteTableInfo(
        table.routeTableId(), table.vpcId(), RouteTableReader.vipRoute(table, vip));
  }

  /**
   * The instances that exist among {@code ids}, in one call (a filter, so unknown ids are simply
   * absent).
   */
  Map<String, InstanceInfo> describeInstances(List<String> ids, AtomicInteger calls) {
    Filter byId = Filter.builder().name("instance-id").values(ids).build();
    Map<String, InstanceInfo> found = new LinkedHashMap<>();
    List<DescribeInstancesResponse> pages =
        clients.callPages(
            "ec2:DescribeInstances",
            String.join(",", ids),
            calls,
            clients.settings().retryDeadline(),
            token -> clients.ec2().describeInstances(r -> r.filters(byId).nextToken(token)),
            DescribeInstancesResponse::nextToken);
    for (DescribeInstancesResponse page : pages) {
      for (Reservation reservation : page.reservations()) {
        for (Instance instance : reservation.instances()) {
          found.put(instance.instanceId(), toInfo(instance, calls));
        }
      }
    }
    return found;
  }

  private InstanceInfo toInfo(Instance instance, AtomicInteger calls) {
    String eni =
        instance.networkInterfaces().stream()
            .filter(n -> n.attachment() != null && n.attachment().deviceIndex() != null)
            .min(Comparator.comparing(n -> n.attachment().deviceIndex()))
            .map(InstanceNetworkInterface::networkInterfaceId)
            .orElse("");
    return new InstanceInfo(
        instance.instanceId(),
        eni,
        Optional.ofNullable(instance.privateIpAddress()).orElse(""),
        instance.placement() == null ? "" : instance.placement().availabilityZone(),
        Optional.ofNullable(instance.subnetId()).orElse(""),
        Optional.ofNullable(instance.vpcId()).orElse(""),
        instance.state() == null ? "unknown" : instance.state().nameAsString(),
        sourceDestCheck(instance, calls));
  }

  /**
   * The instance attribute (what AWS enforces for the primary ENI); asked separately if the listing
   * lacks it.
   */
  private boolean sourceDestCheck(Instance instance, AtomicInteger calls) {
    if (instance.sourceDestCheck() != null) {
      return instance.sourceDestCheck();
    }
    Boolean value =
        clients
            .call(
                "ec2:DescribeInstanceAttribute",
                instance.instanceId(),
                calls,
                () ->
                    clients
                        .ec2()
                        .describeInstanceAttribute(
                            r ->
                                r.instanceId(instance.instanceId())
                                    .attribute(InstanceAttributeName.SOURCE_DEST_CHECK)))
            .sourceDestCheck()
            .value();
    // AWS's default is enabled: treat an unanswered attribute as the unsafe value, so preflight
    // flags it.
    return value == null || value;
  }

  /** What EC2 answers for an unknown id, for a lookup whose answer was empty instead. */
  private static AwsCallException notFound(String action, String code, String what, String id) {
    return new AwsCallException(
        new AwsError(
            AwsError.Kind.VALIDATION,
            action,
            Optional.of(id),
            Optional.of(code),
            what + " " + id + " not found",
            1),
        null);
  }
}
