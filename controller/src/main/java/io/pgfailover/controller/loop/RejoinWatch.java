package io.pgfailover.controller.loop;

import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.RejoinPhase;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes each node's rejoin progress, as its agent reports it in the facts, into the controller's
 * own event history: {@code rejoin_started}, then {@code rewound} or {@code recloned} and {@code
 * rejoin_finished} (with each phase's duration) or {@code rejoin_failed}, each once. The agent
 * keeps the same story in its own history; this one sits beside the failover that caused the
 * rejoin.
 */
final class RejoinWatch {
  private static final Logger log = LoggerFactory.getLogger(RejoinWatch.class);

  private final EventLog events;
  private final Map<String, NodeAgents.Rejoin> seen = new HashMap<>();

  RejoinWatch(EventLog events) {
    this.events = events;
  }

  /** One loop's facts: events for what changed since the last loop. */
  void observe(Map<String, NodeAgents.Reply<NodeAgents.Facts>> agents) {
    agents.forEach(
        (node, reply) ->
            reply.value().map(NodeAgents.Facts::rejoin).ifPresent(now -> observe(node, now)));
  }

  private void observe(String node, NodeAgents.Rejoin now) {
    NodeAgents.Rejoin before = seen.put(node, now);
    if (before == null) {
      return; // the first look (a start, or a new agent) reports nothing it did not see happen
    }
    boolean newRun = !now.startedAt().equals(before.startedAt());
    if (now.state().running() && (newRun || !before.state().running())) {
      event("rejoin_started", node, now);
    }
    if (now.state() != before.state() || newRun) {
      if (now.state() == RejoinPhase.DONE) {
        // How the data directory came onto the new timeline: a re-clone replaces a failed rewind.
        Optional<NodeAgents.Step> moved =
            step(now, RejoinPhase.RECLONING).or(() -> step(now, RejoinPhase.REWINDING));
        moved.ifPresent(
            m ->
                event(
                    m.step() == RejoinPhase.RECLONING ? "recloned" : "rewound",
                    node,
                    now,
                    Map.of("ms", m.ms(), "detail", m.detail())));
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("method", now.method().name().toLowerCase());
        now.steps().forEach(s -> f.put(s.step().name().toLowerCase() + "_ms", s.ms()));
        f.put("ms", now.steps().stream().mapToLong(NodeAgents.Step::ms).sum());
        event("rejoin_finished", node, now, f);
      } else if (now.state() == RejoinPhase.FAILED) {
        event("rejoin_failed", node, now, Map.of("error", now.error().orElse("")));
      }
    }
  }

  private static Optional<NodeAgents.Step> step(NodeAgents.Rejoin r, RejoinPhase phase) {
    return r.steps().stream().filter(s -> s.step() == phase).reduce((a, b) -> b);
  }

  private void event(String name, String node, NodeAgents.Rejoin r) {
    event(name, node, r, Map.of());
  }

  private void event(String name, String node, NodeAgents.Rejoin r, Map<String, Object> extra) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("node", node);
    r.source().ifPresent(s -> f.put("source", s));
    r.expectTimeline().ifPresent(t -> f.put("timeline", t));
    f.putAll(extra);
    events.append(name, f);
    log.info("event={} node={} {}", name, node, extra);
  }
}
