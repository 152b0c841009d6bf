package io.pgfailover.controller.decide;

import io.pgfailover.probe.Reachability;
import io.pgfailover.probe.Replica;
import io.pgfailover.probe.Role;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * One probe of one node, reduced to what decisions need. Role and failure kind are pg-probe's own
 * enums: the controller reads them, it does not translate them.
 *
 * @param failure why the node could not be probed (REFUSED, TIMEOUT, AUTH_FAILED, ...); empty when
 *     reachable
 * @param walPosition on a primary its current WAL LSN; on a standby the last WAL it received (else
 *     replayed)
 * @param writable the write check's result on a primary, empty when not run
 * @param writesStopped the node's configuration stops writes ({@code default_transaction_read_only
 *     = on} in postgresql.auto.conf, as a switchover's write stop leaves it); false when
 *     unreachable
 * @param synchronousStandbyNames the node's {@code synchronous_standby_names}, {@code ""} for none
 *     (and when unreachable)
 * @param replicas on a primary, the standbys streaming from it ({@code pg_stat_replication})
 */
public record NodeObservation(
    String node,
    boolean reachable,
    Optional<Reachability> failure,
    Role role,
    OptionalLong timeline,
    OptionalLong walPosition,
    Optional<Witness> witness,
    Optional<Boolean> writable,
    boolean writesStopped,
    String synchronousStandbyNames,
    List<Replica> replicas) {

  public NodeObservation {
    replicas = List.copyOf(replicas);
  }

  public static NodeObservation unreachable(String node, Reachability failure) {
    return new NodeObservation(
        node,
        false,
        Optional.of(failure),
        Role.UNKNOWN,
        OptionalLong.empty(),
        OptionalLong.empty(),
        Optional.empty(),
        Optional.empty(),
        false,
        "",
        List.of());
  }

  public boolean isPrimary() {
    return reachable && role == Role.PRIMARY;
  }

  public boolean isStandby() {
    return reachable && role == Role.STANDBY;
  }

  /** How many bytes {@code behind} is behind {@code ahead}; empty when either is unknown. */
  public static OptionalLong lag(OptionalLong ahead, OptionalLong behind) {
    return ahead.isPresent() && behind.isPresent()
        ? OptionalLong.of(Math.max(0, ahead.getAsLong() - behind.getAsLong()))
        : OptionalLong.empty();
  }

  /**
   * Whether the node's server answered this probe at all: reachable, or {@link Reachability#SLOW}
   * (it answered, too late to finish). A node that answered is alive as of this probe.
   */
  public boolean answered() {
    return reachable || failure.filter(Reachability.SLOW::equals).isPresent();
  }

  /** The failure as operators read it in sentences, logs and metrics: refused, auth-failed, ... */
  public static String text(Reachability kind) {
    return kind.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
