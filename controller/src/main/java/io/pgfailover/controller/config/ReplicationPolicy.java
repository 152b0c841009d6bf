package io.pgfailover.controller.config;

/**
 * Whether the controller manages synchronous replication.
 *
 * @param mode ASYNC: {@code synchronous_standby_names} is the operator's; SYNC: the controller sets
 *     it on the primary to the standby that streams and has caught up, and clears it when none
 *     qualifies, and an automatic failover promotes only a standby that was synchronous when the
 *     primary was last seen healthy
 * @param strict in SYNC mode, keep writes waiting when no standby qualifies rather than clear the
 *     setting and accept writes one copy of which could be lost (Patroni's {@code
 *     synchronous_mode_strict})
 */
public record ReplicationPolicy(Mode mode, boolean strict) {
  public enum Mode {
    ASYNC,
    SYNC
  }

  public static final ReplicationPolicy DEFAULT = new ReplicationPolicy(Mode.ASYNC, false);

  public boolean sync() {
    return mode == Mode.SYNC;
  }
}
