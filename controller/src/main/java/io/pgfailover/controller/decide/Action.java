package io.pgfailover.controller.decide;

import java.util.List;

/**
 * One step the actuator carries out. Every action is idempotent and re-checks before it mutates.
 */
public sealed interface Action {
  /** A short name for logs and the event history. */
  String name();

  /**
   * Point the virtual-IP route of {@code routeTables} at {@code targetId} (the node's ENI), then
   * verify: every configured table the controller can point (a table that does not exist, or lacks
   * the route while creating it is off, is alarmed instead).
   */
  record PointRoutes(String node, String targetId, List<String> routeTables) implements Action {
    public PointRoutes {
      routeTables = List.copyOf(routeTables);
    }

    public String name() {
      return "point_routes";
    }
  }

  /**
   * Promote a standby; a node already primary is left as it is.
   *
   * @param abortIfPrimary re-probe this (failed) node just before promoting and abort if it answers
   *     as a primary again: the snapshot the decision saw may be a second old
   * @param recheckWithin that re-probe's deadline
   */
  record Promote(
      String node, java.util.Optional<String> abortIfPrimary, java.time.Duration recheckWithin)
      implements Action {
    public String name() {
      return "promote";
    }
  }

  /** Stop the old primary's instance so it cannot take writes again. */
  record Fence(String node, String instanceId) implements Action {
    public String name() {
      return "fence";
    }
  }

  /** Make a primary refuse writes (switchover's first step); undone by {@link AllowWrites}. */
  record StopWrites(String node) implements Action {
    public String name() {
      return "stop_writes";
    }
  }

  /**
   * Remove a write stop: on a new primary after its promotion (it may carry one from a time it was
   * an old primary), or on the old primary when a switchover fails before any promotion started.
   */
  record AllowWrites(String node) implements Action {
    public String name() {
      return "allow_writes";
    }
  }

  /** Wait until the standby has replayed all WAL the (write-stopped) primary wrote. */
  record AwaitCatchUp(String standby, String primary) implements Action {
    public String name() {
      return "await_catch_up";
    }
  }

  /**
   * Point the peer AZ's private route tables' {@code 0.0.0.0/0} at this controller's NAT instance
   * ({@code to} SELF) while the peer NAT is gone, or back at the peer's ({@code to} PEER).
   */
  record PointEgressRoutes(
      io.pgfailover.controller.port.NatEgress.Holder to, String instanceId, String why)
      implements Action {
    public String name() {
      return "point_egress_routes";
    }
  }

  /**
   * Ask {@code node}'s agent to bring it back as a standby of the primary at {@code source}
   * (host:port) on {@code expectTimeline}: the agent re-checks both, stops the node, rewinds (or
   * re-clones) it and starts it streaming. Returns once the agent accepted; later loops follow it.
   */
  record Rejoin(String node, String source, long expectTimeline) implements Action {
    public String name() {
      return "rejoin";
    }
  }

  /**
   * Set {@code synchronous_standby_names} on the primary {@code node} ({@code names} empty: no
   * synchronous standby), as {@code replication: {mode: sync}} asks.
   */
  record SetSynchronousStandbys(String node, String names) implements Action {
    public String name() {
      return "set_synchronous_standbys";
    }
  }

  /** Tell the operator: logged at WARN, counted, shown by status. */
  record Alarm(AlarmKind kind, String message) implements Action {
    public String name() {
      return "alarm";
    }
  }

  enum AlarmKind {
    CONTROLLER_PATH_BROKEN,
    NO_FAILOVER_CANDIDATE,
    STANDBY_LAG_TOO_HIGH,
    AUTOMATIC_FAILOVER_OFF,
    TWO_PRIMARIES,
    STALE_PRIMARY,
    STANDBY_DOWN,
    PRIMARY_NOT_WRITABLE,
    NO_PRIMARY,
    ROUTE_TABLE_PROBLEM,
    REJOIN_NEEDED,
    REJOIN_FAILED,
    AGENT_UNREACHABLE,
    NO_SYNCHRONOUS_CANDIDATE,
    REQUEST_REFUSED
  }
}
