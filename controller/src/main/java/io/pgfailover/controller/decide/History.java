package io.pgfailover.controller.decide;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the loop remembers between snapshots, rebuilt purely from them: consecutive probe failures
 * per node (probes the node did not answer at all: a {@code SLOW} one, whose server answered too
 * late to finish, ends a run of failures), each node's last healthy observation, and the newest
 * timeline any primary has shown. A restarted controller starts empty and relearns it within a few
 * loops; {@link #seedTimeline} lets it start from the event history.
 *
 * @param failingSince when the first probe of each node's current run of failures began
 * @param firstFailureSeen when that probe's failure was in (the end of its loop's observing): a
 *     primary seen alive after it was alive after the controller saw it fail
 * @param notStreamingSince since when each reachable standby has had no streaming WAL receiver
 */
public record History(
    Map<String, Integer> consecutiveFailures,
    Map<String, Instant> failingSince,
    Map<String, Instant> firstFailureSeen,
    Map<String, NodeObservation> lastHealthy,
    long highestPrimaryTimeline,
    Optional<String> lastPrimary,
    Map<String, Heard> lastHeard,
    Map<String, Instant> notStreamingSince) {

  /**
   * When a standby last heard from its upstream (the WAL sender at host:port), on the controller's
   * clock: the end of the probe that read it ({@link Witness#readBy}, else the end of observing)
   * minus the standby's own "time since last message", so never earlier than it came (both uses of
   * it then wait longer, never shorter). Kept across loops because a WAL receiver that lost its
   * connection shows nothing until it reconnects.
   *
   * @param atLeast the soonest it can have come: reckoned from the start of that probe instead
   */
  public record Heard(Instant at, Instant atLeast, String senderHost, int senderPort) {}

  public History {
    consecutiveFailures = Map.copyOf(consecutiveFailures);
    failingSince = Map.copyOf(failingSince);
    firstFailureSeen = Map.copyOf(firstFailureSeen);
    lastHealthy = Map.copyOf(lastHealthy);
    lastHeard = Map.copyOf(lastHeard);
    notStreamingSince = Map.copyOf(notStreamingSince);
  }

  public static History empty() {
    return new History(
        Map.of(), Map.of(), Map.of(), Map.of(), 0, Optional.empty(), Map.of(), Map.of());
  }

  /** A history that already knows a timeline, e.g. read back from the event log after a restart. */
  public History seedTimeline(long timeline, Optional<String> primary) {
    return new History(
        consecutiveFailures,
        failingSince,
        firstFailureSeen,
        lastHealthy,
        Math.max(timeline, highestPrimaryTimeline),
        primary.or(() -> lastPrimary),
        lastHeard,
        notStreamingSince);
  }

  /** The history after one more snapshot. */
  public History next(Snapshot s) {
    Map<String, Integer> failures = new HashMap<>(consecutiveFailures);
    Map<String, Instant> since = new HashMap<>(failingSince);
    Map<String, Instant> seen = new HashMap<>(firstFailureSeen);
    Map<String, NodeObservation> healthy = new HashMap<>(lastHealthy);
    long highest = highestPrimaryTimeline;
    Optional<String> primary = lastPrimary;
    Map<String, Heard> heard = new HashMap<>(lastHeard);
    Map<String, Instant> idle = new HashMap<>(notStreamingSince);
    for (NodeObservation o : s.nodes().values()) {
      if (o.isStandby() && o.witness().filter(Witness::streaming).isEmpty()) {
        idle.putIfAbsent(o.node(), s.at());
      } else {
        idle.remove(o.node());
      }
      o.witness()
          .filter(w -> o.isStandby() && w.streaming())
          .ifPresent(
              w -> {
                Instant by = within(w.readBy().orElse(s.observedUntil()), s);
                Heard now =
                    new Heard(
                        by.minus(w.sinceLastMessage()),
                        within(w.readFrom().orElse(by), s).minus(w.sinceLastMessage()),
                        w.senderHost(),
                        w.senderPort());
                heard.merge(
                    o.node(), now, (old, fresh) -> fresh.at().isAfter(old.at()) ? fresh : old);
              });
      if (o.reachable()) {
        failures.put(o.node(), 0);
        since.remove(o.node());
        seen.remove(o.node());
        healthy.put(o.node(), o);
      } else if (o.answered()) {
        // The server answered but the probe could not finish (a lossy or slow path): alive as of
        // this probe, so the failures before it are not consecutive with those after it.
        failures.put(o.node(), 0);
        since.remove(o.node());
        seen.remove(o.node());
      } else {
        failures.merge(o.node(), 1, Integer::sum);
        since.putIfAbsent(o.node(), s.at());
        seen.putIfAbsent(o.node(), s.observedUntil());
      }
      if (o.isPrimary() && o.timeline().isPresent() && o.timeline().getAsLong() >= highest) {
        highest = o.timeline().getAsLong();
        primary = Optional.of(o.node());
      }
    }
    return new History(failures, since, seen, healthy, highest, primary, heard, idle);
  }

  /** Kept within the snapshot's observing, so that a clock other than the loop's cannot move it. */
  private static Instant within(Instant t, Snapshot s) {
    return t.isAfter(s.observedUntil()) ? s.observedUntil() : t.isBefore(s.at()) ? s.at() : t;
  }

  public int failures(String node) {
    return consecutiveFailures.getOrDefault(node, 0);
  }

  public OptionalLong lastWalPosition(String node) {
    NodeObservation o = lastHealthy.get(node);
    return o == null ? OptionalLong.empty() : o.walPosition();
  }
}
