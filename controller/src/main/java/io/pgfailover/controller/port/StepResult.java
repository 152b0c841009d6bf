package io.pgfailover.controller.port;

import java.util.Map;

/**
 * What one step against PostgreSQL or AWS did. Ports return this instead of throwing for every
 * expected failure (unreachable, refused, timed out), so the actuator can log it, record it and
 * stop the plan.
 *
 * @param changed on success, false when the step found the desired state already in place and wrote
 *     nothing; on failure, true when the step may nonetheless have changed something that cannot be
 *     taken back (a {@code pg_promote} sent but not confirmed), which callers must treat as done
 * @param fields extra key=value facts for logs and the event history (e.g. timeline, api_calls)
 */
public record StepResult(boolean ok, boolean changed, String detail, Map<String, Object> fields) {
  public StepResult {
    fields = Map.copyOf(fields);
  }

  public static StepResult done(String detail, Map<String, Object> fields) {
    return new StepResult(true, true, detail, fields);
  }

  public static StepResult alreadyDone(String detail, Map<String, Object> fields) {
    return new StepResult(true, false, detail, fields);
  }

  public static StepResult failed(String detail, Map<String, Object> fields) {
    return new StepResult(false, false, detail, fields);
  }

  /** Failed, but it may have taken effect anyway: see {@code changed}. */
  public static StepResult failedMaybeChanged(String detail, Map<String, Object> fields) {
    return new StepResult(false, true, detail, fields);
  }
}
