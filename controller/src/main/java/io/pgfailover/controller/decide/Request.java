package io.pgfailover.controller.decide;

import java.util.Optional;

/** An operator's request, decided by the same pure function as the automatic loop. */
public sealed interface Request {
  /**
   * Fail over now, without waiting for the failure threshold.
   *
   * @param force skip the witness and lag guards, and fail over even from a reachable primary
   */
  record Failover(Optional<String> to, boolean force) implements Request {}

  /**
   * A planned switch that loses nothing: stop writes, let the standby catch up, promote, repoint.
   */
  record Switchover(String to) implements Request {}

  /** Bring {@code node} back as a standby of the primary, through its agent. */
  record Rejoin(String node) implements Request {}
}
