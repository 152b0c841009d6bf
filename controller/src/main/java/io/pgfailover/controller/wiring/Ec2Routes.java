package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.FenceResult;
import io.pgfailover.aws.InstanceFencing;
import io.pgfailover.aws.RouteSwitchResult;
import io.pgfailover.aws.RouteTarget;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.decide.RouteState;
import io.pgfailover.controller.port.Fencer;
import io.pgfailover.controller.port.RouteTables;
import io.pgfailover.controller.port.StepResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link RouteTables} and {@link Fencer} over aws-adapter. */
final class Ec2Routes implements RouteTables, Fencer {
  private static final Logger log = LoggerFactory.getLogger(Ec2Routes.class);

  private final ControllerConfig config;
  private final io.pgfailover.aws.RouteTables tables;
  private final InstanceFencing fencing;

  Ec2Routes(ControllerConfig config, AwsClients clients) {
    this.config = config;
    this.tables = new io.pgfailover.aws.RouteTables(clients);
    this.fencing = new InstanceFencing(clients);
  }

  @Override
  public List<RouteState> read() {
    try {
      List<RouteState> out = new ArrayList<>();
      // The loop reads every interval (or every routeRefresh): retrying longer than one interval
      // only stalls
      // the loop during an EC2 brownout, while the next loop retries anyway.
      tables
          .readRoutes(config.virtualIp(), config.routeTables(), config.probe().interval())
          .values()
          .forEach(r -> out.add(state(r)));
      return out;
    } catch (AwsCallException e) {
      log.warn("event=route_read_failed kind={} error=\"{}\"", e.kind(), e.getMessage());
      return config.routeTables().stream()
          .map(t -> RouteState.of(t, RouteState.Status.UNKNOWN))
          .toList();
    }
  }

  static RouteState state(io.pgfailover.aws.RouteState r) {
    return switch (r.status()) {
      case ACTIVE ->
          r.target()
              .map(t -> RouteState.pointingAt(r.routeTableId(), t.id()))
              .orElseGet(
                  () ->
                      new RouteState(r.routeTableId(), RouteState.Status.TARGET, r.otherTarget()));
      case BLACKHOLE -> RouteState.of(r.routeTableId(), RouteState.Status.BLACKHOLE);
      case ABSENT -> RouteState.of(r.routeTableId(), RouteState.Status.ABSENT);
      case TABLE_MISSING -> RouteState.of(r.routeTableId(), RouteState.Status.TABLE_MISSING);
    };
  }

  @Override
  public StepResult pointAt(String targetId) {
    return result(
        tables.pointRoute(
            config.virtualIp(),
            config.routeTables(),
            RouteTarget.parse(targetId),
            config.createRouteIfMissing()));
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

  @Override
  public StepResult fence(String instanceId, Duration bound) {
    FenceResult r = fencing.stopInstance(instanceId, bound);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("api_calls", r.apiCalls());
    r.stateAfter().ifPresent(s -> fields.put("state", s));
    String detail =
        instanceId
            + " "
            + r.outcome().name().toLowerCase()
            + r.reason().map(x -> ": " + x).orElse("");
    if (!r.fenced()) {
      return StepResult.failed(detail, fields);
    }
    return r.outcome() == FenceResult.Outcome.STOPPED
        ? StepResult.done(detail, fields)
        : StepResult.alreadyDone(detail, fields);
  }
}
