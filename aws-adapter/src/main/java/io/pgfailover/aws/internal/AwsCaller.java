package io.pgfailover.aws.internal;

import io.github.resilience4j.core.IntervalFunction;
import io.github.resilience4j.retry.Retry;
import io.github.resilience4j.retry.RetryConfig;
import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one retry policy for AWS calls (SDK retries are off): throttling, 5xx, timeouts and network
 * errors are retried with full-jitter exponential backoff until the retry deadline; authorization
 * and validation errors never. No attempt starts after the deadline, and each attempt is bounded by
 * the SDK's apiCallTimeout, so a call takes at most retryDeadline + apiCallTimeout.
 */
public final class AwsCaller {
  private static final Logger log = LoggerFactory.getLogger(AwsCaller.class);

  /**
   * A bound on attempts besides the deadline, should the clock misbehave: ~20 s of capped waits.
   */
  public static final int MAX_ATTEMPTS = 25;

  private final Duration retryDeadline;
  private final IntervalFunction backoff;
  private final Clock clock;

  public AwsCaller(Duration retryDeadline, IntervalFunction backoff, Clock clock) {
    this.retryDeadline = retryDeadline;
    this.backoff = backoff;
    this.clock = clock;
  }

  /**
   * Runs {@code call}, retrying what can succeed on a retry.
   *
   * @param action IAM action, e.g. {@code ec2:ReplaceRoute}, for logs and errors
   * @param resourceId the resource concerned, or null
   * @param attemptCounter incremented once per request sent, for the caller's API-call count
   * @throws AwsCallException when the call failed for good
   */
  public <T> T call(
      String action, String resourceId, AtomicInteger attemptCounter, Supplier<T> call) {
    return call(action, resourceId, attemptCounter, retryDeadline, call);
  }

  /**
   * As {@link #call(String, String, AtomicInteger, Supplier)} with a retry deadline of its own: a
   * read that the control loop repeats every interval must not hold a loop for the whole retry
   * deadline.
   */
  public <T> T call(
      String action,
      String resourceId,
      AtomicInteger attemptCounter,
      Duration retryDeadline,
      Supplier<T> call) {
    Instant started = clock.instant();
    Instant deadline = started.plus(retryDeadline);
    AtomicInteger attempts = new AtomicInteger();
    RetryConfig config =
        RetryConfig.custom()
            .maxAttempts(MAX_ATTEMPTS)
            .retryOnException(
                t ->
                    ErrorClassifier.classify(t, action, resourceId, attempts.get())
                            .kind()
                            .retryable()
                        && clock.instant().isBefore(deadline))
            // Never sleep past the deadline: the last attempt starts at the deadline at the latest.
            .intervalBiFunction(
                (attempt, outcome) ->
                    Math.min(
                        backoff.apply(attempt),
                        Math.max(0L, Duration.between(clock.instant(), deadline).toMillis())))
            .build();
    Retry retry = Retry.of(action, config);
    retry
        .getEventPublisher()
        .onRetry(
            e -> {
              AwsError error =
                  ErrorClassifier.classify(
                      e.getLastThrowable(), action, resourceId, attempts.get());
              log.warn(
                  "event=aws_call_retry action={} resource={} attempt={} wait_ms={} kind={}"
                      + " code={}",
                  action,
                  resourceId == null ? "-" : resourceId,
                  e.getNumberOfRetryAttempts(),
                  e.getWaitInterval().toMillis(),
                  error.kind(),
                  error.errorCode().orElse("-"));
            });
    try {
      return retry.executeSupplier(
          () -> {
            attempts.incrementAndGet();
            attemptCounter.incrementAndGet();
            return call.get();
          });
    } catch (RuntimeException e) {
      AwsError error = ErrorClassifier.classify(e, action, resourceId, attempts.get());
      if (error.kind().retryable()) {
        long ms = Duration.between(started, clock.instant()).toMillis();
        error =
            new AwsError(
                error.kind(),
                error.action(),
                error.resourceId(),
                error.errorCode(),
                error.message()
                    + "; gave up after "
                    + attempts.get()
                    + " attempts in "
                    + ms
                    + " ms (retry deadline "
                    + retryDeadline.toMillis()
                    + " ms)",
                error.attempts());
      }
      throw new AwsCallException(error, e);
    }
  }
}
