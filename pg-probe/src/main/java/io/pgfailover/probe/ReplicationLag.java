package io.pgfailover.probe;

import java.util.Optional;
import java.util.OptionalLong;

/** Replication lag in bytes of WAL, from probe results. */
public final class ReplicationLag {

  private ReplicationLag() {}

  /**
   * WAL the standby has not yet replayed: the primary's current LSN minus the standby's replay LSN,
   * clamped at zero (the two probes are not simultaneous, so a standby can look slightly ahead).
   * Empty unless {@code primary} is a reachable primary and {@code standby} a reachable standby
   * with a replay position.
   */
  public static OptionalLong bytes(ProbeResult primary, ProbeResult standby) {
    if (!primary.isPrimary() || !standby.isStandby()) {
      return OptionalLong.empty();
    }
    return difference(primary.currentLsn(), standby.replayLsn());
  }

  /**
   * WAL a standby has received but not yet replayed, for when the primary is gone: how much replay
   * remains before a promotion completes. Empty unless {@code standby} is a reachable standby.
   */
  public static OptionalLong receiveReplayGap(ProbeResult standby) {
    if (!standby.isStandby()) {
      return OptionalLong.empty();
    }
    return difference(standby.receiveLsn(), standby.replayLsn());
  }

  private static OptionalLong difference(Optional<Lsn> ahead, Optional<Lsn> behind) {
    if (ahead.isEmpty() || behind.isEmpty()) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(Math.max(0, ahead.get().minus(behind.get())));
  }
}
