package io.pgfailover.controller.decide;

import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.Action.Alarm;
import io.pgfailover.controller.decide.Action.AlarmKind;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.RejoinPhase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which nodes the controller brings back as standbys of the primary, through their agents: the part
 * of the decision that steers a cluster back to two nodes streaming. Pure, like {@link Decider},
 * which calls it only once the routes are settled on the primary.
 *
 * <p>Never rewind the newest timeline, and never take a working node away. In order:
 *
 * <ol>
 *   <li>Only while a primary answers on the newest timeline seen and every route table the
 *       controller can point points at it ({@link Decider} calls this class only then): the source
 *       of a rejoin is that primary, on that timeline, and the agent checks both again before it
 *       changes anything.
 *   <li>Never that primary itself: the node on the newest timeline is the one every other node
 *       rewinds to, never the one rewound. A route target is never rejoined either (the routes are
 *       all on the primary).
 *   <li>Only a node that fell off: an older primary that came back, a node whose PostgreSQL is down
 *       while its agent answers (an agent that does not answer is alarmed, never guessed at), or a
 *       standby that has not streamed for {@link #IDLE_STANDBY} (a lost slot, a missing WAL
 *       segment). A node that does not answer SQL but whose postmaster runs is left to start up.
 *   <li>One rejoin per node at a time: a running one is followed, not restarted (and an agent asked
 *       twice continues the one it runs).
 *   <li>A failed rejoin is not retried by itself: it alarms once, and {@code failoverctl rejoin}
 *       retries it once the cause is fixed; the agent left that node stopped.
 * </ol>
 */
final class RejoinRules {
  /**
   * How long a reachable standby may go without a streaming WAL receiver before it counts as fallen
   * off: a receiver reconnects within {@code wal_retrieve_retry_interval} (5 s) after a restart or
   * a blip; a lost slot or a removed WAL segment keeps it down.
   */
  static final Duration IDLE_STANDBY = Duration.ofSeconds(30);

  /** What to do for the nodes that fell off, and what the loop's sentence says of them. */
  record Plan(List<Action> actions, List<String> notes) {}

  private final ControllerConfig config;

  RejoinRules(ControllerConfig config) {
    this.config = config;
  }

  /** The automatic plan, beside the healthy {@code primary}. */
  Plan plan(Snapshot s, History h, NodeObservation primary) {
    List<Action> actions = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (NodeConfig n : config.nodes()) {
      if (n.name().equals(primary.node()) || n.agent().isEmpty()) {
        continue;
      }
      Optional<String> why = fellOff(s, h, n.name(), primary);
      if (why.isEmpty()) {
        continue;
      }
      NodeAgents.Reply<NodeAgents.Facts> reply = s.agents().get(n.name());
      if (reply == null || !reply.ok()) {
        String failure = reply == null ? "not asked" : reply.failure().orElse("");
        actions.add(
            new Alarm(
                AlarmKind.AGENT_UNREACHABLE,
                "node "
                    + n.name()
                    + " "
                    + why.get()
                    + " but its agent does not answer ("
                    + failure
                    + "): it cannot be rejoined. Check failoverctl agent on its host"
                    + " (systemctl status pgfailover-agent)"));
        notes.add(n.name() + " " + why.get() + ", its agent does not answer");
        continue;
      }
      NodeAgents.Rejoin rejoin = reply.value().get().rejoin();
      String source = source(primary);
      long timeline = primary.timeline().orElse(0);
      if (rejoin.state().running()) {
        notes.add(n.name() + " rejoining (" + rejoin.state().name().toLowerCase() + ")");
      } else if (rejoin.state() == RejoinPhase.FAILED && sameRequest(rejoin, source, timeline)) {
        actions.add(
            new Alarm(
                AlarmKind.REJOIN_FAILED,
                "rejoining "
                    + n.name()
                    + " to "
                    + primary.node()
                    + " failed: "
                    + rejoin.error().orElse("no reason given")
                    + ". The node is left stopped; fix the cause, then failoverctl rejoin "
                    + n.name()));
        notes.add(n.name() + " " + why.get() + ", its rejoin failed");
      } else if (config.rejoin() == ControllerConfig.RejoinMode.MANUAL) {
        actions.add(
            new Alarm(
                AlarmKind.REJOIN_NEEDED,
                "node "
                    + n.name()
                    + " "
                    + why.get()
                    + ": run failoverctl rejoin "
                    + n.name()
                    + " to bring it back as a standby of "
                    + primary.node()
                    + " (rejoin: manual)"));
        notes.add(n.name() + " " + why.get() + ", to rejoin by hand");
      } else {
        actions.add(new Action.Rejoin(n.name(), source, timeline));
        notes.add(
            "rejoining " + n.name() + " (" + why.get() + ") as a standby of " + primary.node());
      }
    }
    return new Plan(actions, notes);
  }

  /** An operator's {@code failoverctl rejoin NODE}, beside the healthy {@code primary}. */
  Optional<Action> requested(String node, Snapshot s, NodeObservation primary) {
    if (node.equals(primary.node()) || config.node(node).flatMap(NodeConfig::agent).isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new Action.Rejoin(node, source(primary), primary.timeline().orElse(0)));
  }

  /** Why {@code node} counts as fallen off, if it does. */
  private Optional<String> fellOff(Snapshot s, History h, String node, NodeObservation primary) {
    NodeObservation o = s.nodes().get(node);
    if (o == null) {
      return Optional.empty();
    }
    if (o.isPrimary()) {
      return Optional.of("is an old primary on timeline " + o.timeline().orElse(0));
    }
    if (!o.reachable() && h.failures(node) >= config.probe().failureThreshold()) {
      // Down by SQL: only a postmaster its agent reports stopped is the agent's to bring back.
      boolean stopped = s.facts(node).filter(f -> !f.postmasterRunning()).isPresent();
      boolean agentSilent = s.facts(node).isEmpty();
      return stopped || agentSilent ? Optional.of("is down") : Optional.empty();
    }
    Optional<java.time.Instant> idleSince = Optional.ofNullable(h.notStreamingSince().get(node));
    if (o.isStandby() && idleSince.filter(t -> !t.plus(IDLE_STANDBY).isAfter(s.at())).isPresent()) {
      return Optional.of(
          "has not streamed for " + Duration.between(idleSince.get(), s.at()).toSeconds() + " s");
    }
    return Optional.empty();
  }

  private static boolean sameRequest(NodeAgents.Rejoin r, String source, long timeline) {
    return r.source().filter(source::equals).isPresent()
        && r.expectTimeline().isPresent()
        && r.expectTimeline().getAsLong() == timeline;
  }

  /** The primary as the rejoining node's standby reaches it: its configured host and port. */
  private String source(NodeObservation primary) {
    NodeConfig p = config.node(primary.node()).orElseThrow();
    return p.host() + ":" + p.port();
  }
}
