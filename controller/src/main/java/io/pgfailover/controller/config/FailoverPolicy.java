package io.pgfailover.controller.config;

import java.time.Duration;

/**
 * What the controller may do on its own when the primary fails.
 *
 * @param automatic false: detect and alarm only; an operator runs {@code failoverctl failover}
 * @param maxLagBytes refuse automatic promotion of a standby further behind than this (bytes of
 *     WAL)
 * @param witnessWindow a standby whose WAL receiver heard from the primary within this window
 *     proves the primary alive, so the controller's own path is what broke; keep the standby's
 *     {@code wal_receiver_timeout} at or below twice this window so an idle primary still sends
 *     keepalives in it
 * @param promoteTimeout how long {@code pg_promote} may take before the attempt counts as failed
 */
public record FailoverPolicy(
    boolean automatic,
    long maxLagBytes,
    Fencing fencing,
    Duration witnessWindow,
    Duration promoteTimeout) {
  public static final long DEFAULT_MAX_LAG_BYTES = 16L * 1024 * 1024;
  public static final Duration DEFAULT_WITNESS_WINDOW = Duration.ofSeconds(5);
  public static final Duration DEFAULT_PROMOTE_TIMEOUT = Duration.ofSeconds(30);

  public enum Fencing {
    /** Do nothing to the old primary: rely on the route move alone. */
    NONE,
    /** Stop the old primary's EC2 instance (force) before promoting. */
    STOP_INSTANCE
  }
}
