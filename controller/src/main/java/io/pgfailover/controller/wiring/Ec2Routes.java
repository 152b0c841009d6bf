package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.RouteState;
import io.pgfailover.aws.RouteSwitchResult;
import io.pgfailover.aws.RouteTables;
import io.pgfailover.aws.RouteTarget;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.controller.port.VirtualIpRoutes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link VirtualIpRoutes} over aws-adapter. */
final class Ec2Routes implements VirtualIpRoutes {
  private static final Logger log = LoggerFactory.getLogger(Ec2Routes.class);

  private final ControllerConfig config;
  private final RouteTables tables;

  /**
   * The routes as {@link #read} last saw them, for the next {@link #pointAt} to use as its check
   * (the loop reads the routes when it finds no primary, so a failover's switch starts from this
   * loop's read); empty once a switch may have changed them.
   */
  private final AtomicReference<Map<String, RouteState>> lastRead = new AtomicReference<>(Map.of());

  Ec2Routes(ControllerConfig config, AwsClients clients) {
    this.config = config;
    this.tables = new RouteTables(clients);
  }

  @Override
  public List<VirtualIpRoute> read() {
    try {
      List<VirtualIpRoute> out = new ArrayList<>();
      // The loop reads every interval (or every routeRefresh): retrying longer than one interval
      // only stalls the loop during an EC2 brownout, while the next loop retries anyway.
      Map<String, RouteState> read =
          tables.readRoutes(config.virtualIp(), config.routeTables(), config.probe().interval());
      lastRead.set(Map.copyOf(read));
      read.values().forEach(r -> out.add(state(r)));
      return out;
    } catch (AwsCallException e) {
      lastRead.set(Map.of());
      log.warn("event=route_read_failed kind={} error=\"{}\"", e.kind(), e.getMessage());
      return config.routeTables().stream()
          .map(t -> VirtualIpRoute.of(t, VirtualIpRoute.Status.UNKNOWN))
          .toList();
    }
  }

  static VirtualIpRoute state(RouteState r) {
    return switch (r.status()) {
      case ACTIVE ->
          r.target()
              .map(t -> VirtualIpRoute.pointingAt(r.routeTableId(), t.id()))
              .orElseGet(
                  () ->
                      new VirtualIpRoute(
                          r.routeTableId(), VirtualIpRoute.Status.TARGET, r.otherTarget()));
      case BLACKHOLE -> VirtualIpRoute.of(r.routeTableId(), VirtualIpRoute.Status.BLACKHOLE);
      case ABSENT -> VirtualIpRoute.of(r.routeTableId(), VirtualIpRoute.Status.ABSENT);
      case TABLE_MISSING ->
          VirtualIpRoute.of(r.routeTableId(), VirtualIpRoute.Status.TABLE_MISSING);
    };
  }

  @Override
  public StepResult pointAt(String targetId, List<String> routeTables) {
    // Whatever the outcome, the routes may have changed: the next switch reads them first unless
    // the loop has read them again.
    Map<String, RouteState> seen = lastRead.getAndSet(Map.of());
    return result(
        tables.pointRoute(
            config.virtualIp(),
            routeTables,
            RouteTarget.parse(targetId),
            config.createRouteIfMissing(),
            seen));
  }

  /**
   * A route switch as a step: api_calls and each table's outcome in the fields; ok only if every
   * table is.
   */
  static StepResult result(RouteSwitchResult r) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("api_calls", r.apiCalls());
    Map<String, String> perTable = new LinkedHashMap<>();
    r.tables()
        .forEach(
            t ->
                perTable.put(
                    t.routeTableId(),
                    t.outcome().name().toLowerCase() + t.reason().map(x -> ": " + x).orElse("")));
    fields.put("tables", perTable);
    boolean changed =
        r.tables().stream()
            .anyMatch(t -> t.outcome() != RouteSwitchResult.Outcome.UNCHANGED && t.ok());
    if (!r.allOk()) {
      return StepResult.failed(r.summary(), fields);
    }
    return changed
        ? StepResult.done(r.summary(), fields)
        : StepResult.alreadyDone(r.summary(), fields);
  }
}
