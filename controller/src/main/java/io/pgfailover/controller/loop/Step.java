package io.pgfailover.controller.loop;

/**
 * What became of one action of a plan. Reads as one line in the event history, the admin API's
 * answer and {@code status}: "promote ok: promoted pg-b to timeline 2".
 */
public record Step(String action, Status status, String detail) {
  public enum Status {
    /** The action ran and held. */
    OK,
    /** The action ran and failed; the plan stopped there. */
    FAILED,
    /** Not run: the lease said no (a follower, or a leader whose lease lapsed). Nothing changed. */
    REFUSED,
    /** Not run, by design: a follower leaves acting to the leader. */
    SKIPPED
  }

  @Override
  public String toString() {
    return switch (status) {
      case OK -> action + " ok: " + detail;
      case FAILED -> action + " failed: " + detail;
      case REFUSED -> action + " refused: " + detail;
      case SKIPPED -> action + ": " + detail;
    };
  }
}
