package io.pgfailover.controller.port;

import java.time.Duration;

/** Keeps an old primary from taking writes again by stopping its EC2 instance. */
public interface Fencer {
  /**
   * Stop the instance (forced) and wait, within {@code bound}, until it is stopping or stopped.
   * Idempotent on an instance already stopping or stopped. Never throws for an AWS failure.
   */
  StepResult fence(String instanceId, Duration bound);
}
