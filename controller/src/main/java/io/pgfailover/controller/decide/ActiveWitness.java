package io.pgfailover.controller.decide;

import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.probe.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * What the standbys' hosts saw of a primary the controller cannot reach: each node agent probes its
 * upstream every interval with the controller's own probe ({@link NodeAgents.Upstream}). Pure.
 *
 * <p>Two views of one primary, the controller's and a standby host's, compared by durations only
 * (each measured on its own host's clock):
 *
 * <ol>
 *   <li>A standby's host that reached the primary, as primary, after the controller's first failed
 *       probe had ended proves the primary alive and the controller's path broken: no failover. A
 *       reach while that probe waited proves neither way (rule 3).
 *   <li>A standby's host that has not heard from it since the controller's first failed probe began
 *       (no reach, and no {@code slow} probe: its server sent bytes then, so it was alive), and
 *       failed at least once meanwhile, saw the same failure from another place: that counts as one
 *       more failed probe, and the passive witness (what the WAL receiver last heard) adds nothing
 *       a dead or cut-off primary would not also show, so it no longer holds the failover back.
 *       Unless a standby's WAL receiver heard from the primary after the controller's failures
 *       began: then it was alive after them, the failed probes met a lossy path (a probe the server
 *       answered too late, {@code SLOW}, is no failure on either side), and rule 3 applies.
 *   <li>Without a view (no agent, no answer, an agent probing elsewhere), the passive witness rules
 *       alone, as before agents.
 * </ol>
 */
record ActiveWitness(Verdict verdict, String standby, String detail) {
  enum Verdict {
    /** Rule 1: the primary answered a standby's host after the controller's first failure. */
    REACHED,
    /** Rule 2: a standby's host cannot reach it either. */
    UNREACHABLE,
    /** Rule 3: no standby's host watches it, or what one saw proves neither way. */
    NONE
  }

  static final ActiveWitness NONE = new ActiveWitness(Verdict.NONE, "", "");

  /**
   * @param failingSince when the controller's first failed probe of this run began (its own clock),
   *     plus the moment a live primary takes to answer (the decider's rule): the standby's host and
   *     WAL receiver must have been silent since then to agree
   * @param vetoAfter when that probe's failure was in, and no sooner than its timeout after it
   *     began (the decider's rule): a reach after it vetoes. Not its start: a fault during that
   *     probe leaves the primary seen alive by others after it began, which proves nothing about
   *     the controller's path, and as a dead primary's last sign of life it would veto every loop
   *     after. A reach between the two proves neither way.
   */
  static ActiveWitness of(
      Snapshot s,
      NodeConfig failed,
      Optional<Instant> failingSince,
      Optional<Instant> vetoAfter,
      java.util.Map<String, History.Heard> lastHeard) {
    if (failingSince.isEmpty() || vetoAfter.isEmpty()) {
      return NONE;
    }
    // Rule 2's exception: a standby that heard from the primary since the controller's failures
    // began shows it alive then (its WAL sender spoke), so failed agent probes meanwhile were the
    // path's loss, not the primary's death (History.Heard says how its time is reckoned). Surely
    // since then, reckoned from the start of the probe that read it: the primary's last message
    // before a fault that came just before that first failed probe may be read only after it.
    boolean heardSince =
        lastHeard.values().stream()
            .anyMatch(
                h ->
                    h.senderHost().equals(failed.host())
                        && h.senderPort() == failed.port()
                        && h.atLeast().isAfter(failingSince.get()));
    // An agent's ages were measured no later than the end of observing, so "reached after" errs
    // towards yes (a veto), and "not reached since" towards no.
    long sinceSeenMs = Duration.between(vetoAfter.get(), s.observedUntil()).toMillis();
    long sinceBeganMs = Duration.between(failingSince.get(), s.observedUntil()).toMillis();
    String target = failed.host() + ":" + failed.port();
    ActiveWitness agreed = NONE;
    for (var e : s.agents().entrySet()) {
      if (e.getKey().equals(failed.name())) {
        continue;
      }
      Optional<NodeAgents.Upstream> up =
          e.getValue()
              .value()
              .flatMap(NodeAgents.Facts::upstream)
              .filter(u -> u.target().equals(target));
      if (up.isEmpty()) {
        continue;
      }
      NodeAgents.Upstream u = up.get();
      boolean reachedAfter =
          u.sinceReachedMs().isPresent()
              && u.sinceReachedMs().getAsLong() < sinceSeenMs
              && u.reachedAs().filter(Role.PRIMARY::equals).isPresent();
      // Silent: no reach, and no slow probe either (its server sent bytes: alive then), since.
      boolean notAnsweredSince =
          u.sinceAnsweredMs().isEmpty() || u.sinceAnsweredMs().getAsLong() >= sinceBeganMs;
      if (reachedAfter) {
        return new ActiveWitness(
            Verdict.REACHED,
            e.getKey(),
            String.format(
                java.util.Locale.ROOT,
                "%s's host reached it %.1f s ago",
                e.getKey(),
                u.sinceReachedMs().getAsLong() / 1000.0));
      }
      if (notAnsweredSince && u.consecutiveFailures() >= 1 && !heardSince) {
        agreed =
            new ActiveWitness(
                Verdict.UNREACHABLE,
                e.getKey(),
                e.getKey()
                    + "'s host cannot reach it either ("
                    + u.consecutiveFailures()
                    + " failed, "
                    + u.lastFailure().orElse("failed")
                    + ")");
      }
    }
    return agreed;
  }
}
