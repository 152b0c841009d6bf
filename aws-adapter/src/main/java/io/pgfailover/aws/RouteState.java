package io.pgfailover.aws;

import java.util.Optional;

/**
 * What one route table's virtual-IP route points at now.
 *
 * @param networkInterfaceId the ENI of the route, when it goes to one (AWS fills it for instance
 *     routes too)
 * @param instanceId the instance of the route, when it goes to one (AWS fills it for ENI routes
 *     attached to one)
 * @param otherTarget a gateway, NAT gateway, peering or transit gateway id, when the route goes
 *     there instead
 */
public record RouteState(
    String routeTableId,
    Status status,
    Optional<String> networkInterfaceId,
    Optional<String> instanceId,
    Optional<String> otherTarget) {

  public enum Status {
    /** The route exists and AWS considers its target reachable. */
    ACTIVE,
    /** The route exists but its target is gone or stopped: traffic to the virtual IP is dropped. */
    BLACKHOLE,
    /** The table has no route for the virtual IP. */
    ABSENT,
    /** No such route table in this region and account. */
    TABLE_MISSING
  }

  public static RouteState absent(String routeTableId) {
    return new RouteState(
        routeTableId, Status.ABSENT, Optional.empty(), Optional.empty(), Optional.empty());
  }

  public static RouteState tableMissing(String routeTableId) {
    return new RouteState(
        routeTableId, Status.TABLE_MISSING, Optional.empty(), Optional.empty(), Optional.empty());
  }

  /** The route's ENI or instance, ENI preferred. */
  public Optional<RouteTarget> target() {
    if (networkInterfaceId.isPresent()) {
      return networkInterfaceId.map(RouteTarget::networkInterface);
    }
    return instanceId.map(RouteTarget::instance);
  }

  /** Whether the route exists and goes to {@code target} (compared by the target's own kind). */
  public boolean pointsAt(RouteTarget target) {
    if (status != Status.ACTIVE && status != Status.BLACKHOLE) {
      return false;
    }
    Optional<String> id =
        target.kind() == RouteTarget.Kind.NETWORK_INTERFACE ? networkInterfaceId : instanceId;
    return id.filter(target.id()::equals).isPresent();
  }

  /** For logs: the target id, or what stands in for one. */
  public String describe() {
    return switch (status) {
      case ABSENT -> "absent";
      case TABLE_MISSING -> "table-missing";
      default -> {
        String to = target().map(RouteTarget::id).or(() -> otherTarget).orElse("none");
        yield status == Status.BLACKHOLE ? to + "(blackhole)" : to;
      }
    };
  }
}
