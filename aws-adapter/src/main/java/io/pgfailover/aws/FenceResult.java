package io.pgfailover.aws;

import java.time.Duration;
import java.util.Optional;

/**
 * What {@link InstanceFencing#stopInstance} did.
 *
 * @param stateBefore the instance's state when we looked first (empty if it could not be read)
 * @param stateAfter the state last read (empty if it could not be read)
 * @param apiCalls requests sent, retries included
 */
public record FenceResult(
    String instanceId,
    Outcome outcome,
    Optional<String> stateBefore,
    Optional<String> stateAfter,
    int apiCalls,
    Duration elapsed,
    Optional<String> reason,
    Optional<AwsError> error) {

  public enum Outcome {
    /** Already stopping, stopped, shutting down or terminated: nothing sent. */
    ALREADY_STOPPED,
    /** StopInstances sent and the instance seen stopping or stopped within the bound. */
    STOPPED,
    /** StopInstances sent but the instance still ran when the bound ran out: not fenced yet. */
    NOT_CONFIRMED,
    /**
     * StopInstances could not be sent or the instance could not be read; {@code error} says why.
     */
    FAILED
  }

  /** The instance can no longer serve writes (as far as EC2 is concerned). */
  public boolean fenced() {
    return outcome == Outcome.ALREADY_STOPPED || outcome == Outcome.STOPPED;
  }
}
