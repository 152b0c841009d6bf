package io.pgfailover.controller.decide;

import java.util.Optional;

/**
 * Where one route table sends the virtual IP.
 *
 * @param target the ENI or instance id the route points at, when {@link Status#TARGET}
 */
public record VirtualIpRoute(String routeTable, Status status, Optional<String> target) {
  public enum Status {
    /** The route exists and points at {@link #target}. */
    TARGET,
    /** The table has no route for the virtual IP. */
    ABSENT,
    /** The route exists but its target is gone (blackhole). */
    BLACKHOLE,
    /** The route table itself does not exist. */
    TABLE_MISSING,
    /** The table could not be read (EC2 unavailable): decisions must not rely on it. */
    UNKNOWN
  }

  public static VirtualIpRoute pointingAt(String table, String target) {
    return new VirtualIpRoute(table, Status.TARGET, Optional.of(target));
  }

  public static VirtualIpRoute of(String table, Status status) {
    return new VirtualIpRoute(table, status, Optional.empty());
  }

  public boolean pointsAt(String id) {
    return status == Status.TARGET && target.filter(id::equals).isPresent();
  }
}
