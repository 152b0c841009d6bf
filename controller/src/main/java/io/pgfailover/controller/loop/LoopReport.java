package io.pgfailover.controller.loop;

import io.pgfailover.controller.decide.Decision;
import io.pgfailover.controller.decide.Snapshot;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One loop: what was seen, what was decided and what the actions did.
 *
 * @param failures consecutive failed probes per node after this loop
 */
public record LoopReport(
    Instant at,
    Snapshot snapshot,
    Decision decision,
    boolean ok,
    List<Step> steps,
    Optional<FailoverTimeline> timeline,
    Map<String, Integer> failures) {
  public LoopReport {
    steps = List.copyOf(steps);
    failures = Map.copyOf(failures);
  }

  /** Whether the lease refused an action: nothing was changed, and acting is someone else's. */
  public boolean refused() {
    return steps.stream().anyMatch(s -> s.status() == Step.Status.REFUSED);
  }
}
