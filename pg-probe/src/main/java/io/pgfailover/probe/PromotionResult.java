package io.pgfailover.probe;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/** What {@link PgProbe#promote} did. Never thrown: a failure is an outcome with an error. */
public record PromotionResult(
    Outcome outcome,
    OptionalLong timelineBefore,
    OptionalLong timelineAfter,
    Duration elapsed,
    Optional<String> error) {

  public enum Outcome {
    /** The node was a standby, left recovery and is on a newer timeline. */
    PROMOTED,
    /** The node was already a primary; nothing was done. */
    ALREADY_PRIMARY,
    /** Not promoted, or not confirmed within the timeout; see error. */
    FAILED
  }

  public PromotionResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(timelineBefore, "timelineBefore");
    Objects.requireNonNull(timelineAfter, "timelineAfter");
    Objects.requireNonNull(elapsed, "elapsed");
    Objects.requireNonNull(error, "error");
    if ((outcome == Outcome.FAILED) != error.isPresent()) {
      throw new IllegalArgumentException("a promotion result has an error exactly when it failed");
    }
  }
}
