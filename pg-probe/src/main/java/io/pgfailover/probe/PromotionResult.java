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
    /**
     * Not promoted, and nothing was started: the node was unreachable or not a standby before
     * {@code pg_promote} was sent, or the server refused the call for lack of privilege. See error.
     */
    NOT_STARTED,
    /**
     * {@code pg_promote} was sent but the promotion was not confirmed within the timeout: it may
     * still complete, so the caller must act as if it might have. See error.
     */
    FAILED
  }

  /** Whether the node is, or may yet become, a primary because of this call. */
  public boolean mayHavePromoted() {
    return outcome != Outcome.NOT_STARTED;
  }

  public PromotionResult {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(timelineBefore, "timelineBefore");
    Objects.requireNonNull(timelineAfter, "timelineAfter");
    Objects.requireNonNull(elapsed, "elapsed");
    Objects.requireNonNull(error, "error");
    boolean failed = outcome == Outcome.FAILED || outcome == Outcome.NOT_STARTED;
    if (failed != error.isPresent()) {
      throw new IllegalArgumentException("a promotion result has an error exactly when it failed");
    }
  }
}
