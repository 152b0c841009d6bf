package io.pgfailover.controller.decide;

import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.probe.Replica;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Managed synchronous replication ({@code replication: {mode: sync}}): which standby the primary
 * waits for, and which standby an automatic failover may promote. Pure, like {@link Decider}.
 *
 * <p>No acknowledged write lost, in order:
 *
 * <ol>
 *   <li>A standby is made synchronous only while it streams from the primary and has caught up to
 *       within {@code failover.maxLagBytes}: from then on a commit is acknowledged only once that
 *       standby flushed it.
 *   <li>When no standby qualifies, the setting is cleared (writes go on, one copy only) unless
 *       {@code strict}, which keeps it (writes wait) rather than risk losing them.
 *   <li>The primary's own view of its standbys ({@code pg_stat_replication}) is recorded with each
 *       healthy probe; an automatic failover promotes only a standby it last reported {@code sync}:
 *       every write it acknowledged is on that standby. Any other promotion is an operator's {@code
 *       failover --force}.
 *   <li>A promoted standby starts with the setting its new role needs (empty, or in {@code strict}
 *       the other nodes), so it neither waits for itself nor lets writes through unguarded.
 * </ol>
 *
 * Standbys are known by their {@code application_name}, which must be their node name (the agent's
 * rejoin writes it; the stack and the lab set it).
 */
final class SyncRules {
  private final ControllerConfig config;

  SyncRules(ControllerConfig config) {
    this.config = config;
  }

  boolean on() {
    return config.replication().sync();
  }

  /** The setting {@code primary} should have now: rules 1 and 2. */
  String wanted(NodeObservation primary) {
    List<String> caughtUp =
        others(primary.node()).stream().filter(n -> caughtUp(primary, n)).toList();
    if (!caughtUp.isEmpty()) {
      return names(caughtUp);
    }
    if (!config.replication().strict()) {
      return "";
    }
    return primary.synchronousStandbyNames().isEmpty()
        ? names(others(primary.node()))
        : primary.synchronousStandbyNames();
  }

  /** The setting a just-promoted {@code node} needs: rule 4. */
  String afterPromotion(String node) {
    return config.replication().strict() ? names(others(node)) : "";
  }

  /**
   * Whether {@code candidate} was synchronous when {@code failed} was last seen healthy: rule 3.
   */
  boolean wasSynchronous(History h, String failed, String candidate) {
    NodeObservation last = h.lastHealthy().get(failed);
    return last != null
        && last.replicas().stream()
            .anyMatch(r -> r.applicationName().equals(candidate) && r.synchronous());
  }

  /** The standbys {@code primary} last reported synchronous, for the sentence. */
  Set<String> synchronousOf(History h, String primary) {
    return Optional.ofNullable(h.lastHealthy().get(primary))
        .map(
            o ->
                o.replicas().stream()
                    .filter(Replica::synchronous)
                    .map(Replica::applicationName)
                    .collect(Collectors.toCollection(java.util.TreeSet::new)))
        .map(Set::copyOf)
        .orElse(Set.of());
  }

  private boolean caughtUp(NodeObservation primary, String standby) {
    OptionalLong at = primary.walPosition();
    return primary.replicas().stream()
        .filter(r -> r.applicationName().equals(standby) && r.streaming())
        .anyMatch(
            r ->
                r.flushLsn().isPresent()
                    && at.isPresent()
                    && at.getAsLong() - r.flushLsn().get().value()
                        <= config.failover().maxLagBytes());
  }

  private List<String> others(String node) {
    return config.nodes().stream().map(NodeConfig::name).filter(n -> !n.equals(node)).toList();
  }

  /**
   * {@code "pg-b"} for one standby, {@code FIRST 1 ("pg-b", "pg-c")} for several (the first listed
   * that is connected): node names quoted, as PostgreSQL then reports the setting back.
   */
  static String names(List<String> nodes) {
    List<String> quoted = nodes.stream().map(n -> "\"" + n + "\"").toList();
    return quoted.size() == 1 ? quoted.get(0) : "FIRST 1 (" + String.join(", ", quoted) + ")";
  }
}
