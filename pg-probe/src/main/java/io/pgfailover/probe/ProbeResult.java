package io.pgfailover.probe;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One immutable observation of one node. When {@code reachability} is not {@link
 * Reachability#REACHABLE} only {@code node}, {@code observedAt}, {@code latency} and {@code error}
 * are meaningful and the rest is empty.
 *
 * @param observedAt when the probe started (from the probe's clock)
 * @param latency wall time of the whole probe: connect, login, queries (and the write check when
 *     enabled)
 * @param timeline the node's current timeline: on a primary the timeline it writes WAL on; on a
 *     standby the timeline its WAL receiver last received, else that of its last restartpoint
 * @param currentLsn the primary's current WAL write position
 * @param receiveLsn the last WAL position a standby received and flushed
 * @param replayLsn the last WAL position a standby replayed
 * @param writeCheck present on a primary when the write check is enabled
 * @param settings what the server's configuration says about writes and synchronous replication;
 *     empty when unreachable
 * @param replicas on a primary, the standbys connected to it ({@code pg_stat_replication})
 */
public record ProbeResult(
    String node,
    Instant observedAt,
    Duration latency,
    Reachability reachability,
    Optional<String> error,
    Role role,
    OptionalLong timeline,
    Optional<Lsn> currentLsn,
    Optional<Lsn> receiveLsn,
    Optional<Lsn> replayLsn,
    Optional<WalReceiver> walReceiver,
    Optional<String> serverVersion,
    Optional<WriteCheck> writeCheck,
    Optional<ServerSettings> settings,
    List<Replica> replicas) {

  /**
   * @param writesStopped the configuration files stop writes ({@code default_transaction_read_only
   *     = on}, as a switchover's write stop leaves it)
   * @param synchronousStandbyNames the setting in force, {@code ""} when none
   */
  public record ServerSettings(boolean writesStopped, String synchronousStandbyNames) {}

  public ProbeResult {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(observedAt, "observedAt");
    Objects.requireNonNull(latency, "latency");
    Objects.requireNonNull(reachability, "reachability");
    Objects.requireNonNull(error, "error");
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(timeline, "timeline");
    Objects.requireNonNull(currentLsn, "currentLsn");
    Objects.requireNonNull(receiveLsn, "receiveLsn");
    Objects.requireNonNull(replayLsn, "replayLsn");
    Objects.requireNonNull(walReceiver, "walReceiver");
    Objects.requireNonNull(serverVersion, "serverVersion");
    Objects.requireNonNull(writeCheck, "writeCheck");
    Objects.requireNonNull(settings, "settings");
    replicas = List.copyOf(replicas);
    if (reachability != Reachability.REACHABLE && error.isEmpty()) {
      throw new IllegalArgumentException(
          "an unreachable result must say why: reachability=" + reachability);
    }
  }

  /** A probe that got no answers. */
  public static ProbeResult unreachable(
      String node, Instant observedAt, Duration latency, Reachability reachability, String error) {
    if (reachability == Reachability.REACHABLE) {
      throw new IllegalArgumentException("unreachable() needs a failure kind, not REACHABLE");
    }
    return new ProbeResult(
        node,
        observedAt,
        latency,
        reachability,
        Optional.of(error),
        Role.UNKNOWN,
        OptionalLong.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        List.of());
  }

  public boolean reachable() {
    return reachability == Reachability.REACHABLE;
  }

  public boolean isPrimary() {
    return reachable() && role == Role.PRIMARY;
  }

  public boolean isStandby() {
    return reachable() && role == Role.STANDBY;
  }
}
