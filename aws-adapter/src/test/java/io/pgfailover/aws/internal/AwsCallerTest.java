package io.pgfailover.aws.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The retry policy without a network: a clock that moves only when told, and zero-length backoff
 * waits.
 */
class AwsCallerTest {
  private final TestClock clock = new TestClock();
  private final AwsCaller caller =
      new AwsCaller(
          Duration.ofSeconds(3),
          new FullJitterBackoff(Duration.ofMillis(100), Duration.ofSeconds(2), () -> 0.0),
          clock);
  private final AtomicInteger counted = new AtomicInteger();

  @Test
  void throttlingIsRetriedUntilTheCallSucceeds() {
    AtomicInteger tries = new AtomicInteger();
    String result =
        caller.call(
            "ec2:ReplaceRoute",
            "rtb-1",
            counted,
            () -> {
              if (tries.incrementAndGet() <= 2) {
                throw ErrorClassifierTest.ec2Error(
                    503, "RequestLimitExceeded", "Request limit exceeded.");
              }
              return "done";
            });
    assertEquals("done", result);
    assertEquals(3, counted.get());
  }

  @Test
  void validationErrorsAreNotRetried() {
    AwsCallException e =
        assertThrows(
            AwsCallException.class,
            () ->
                caller.call(
                    "ec2:ReplaceRoute",
                    "rtb-1",
                    counted,
                    () -> {
                      throw ErrorClassifierTest.ec2Error(
                          400,
                          "InvalidRouteTableID.NotFound",
                          "The routeTable ID 'rtb-1' does not exist");
                    }));
    assertEquals(AwsError.Kind.VALIDATION, e.kind());
    assertEquals(1, e.error().attempts());
    assertEquals(1, counted.get());
  }

  @Test
  void noRetryStartsAfterTheDeadline() {
    // Each attempt "takes" one second on the test clock; the deadline is three seconds.
    AwsCallException e =
        assertThrows(
            AwsCallException.class,
            () ->
                caller.call(
                    "ec2:DescribeRouteTables",
                    null,
                    counted,
                    () -> {
                      clock.advance(Duration.ofSeconds(1));
                      throw ErrorClassifierTest.ec2Error(
                          500, "InternalError", "An internal error has occurred.");
                    }));
    assertEquals(AwsError.Kind.SERVER, e.kind());
    assertEquals(
        3, e.error().attempts(), "attempts at t=0s, 1s, 2s; at 3s the deadline has passed");
    assertTrue(
        e.getMessage().contains("gave up after 3 attempts in 3000 ms (retry deadline 3000 ms)"),
        e.getMessage());
  }

  @Test
  void attemptsAreBoundedEvenIfTheClockStands() {
    AwsCallException e =
        assertThrows(
            AwsCallException.class,
            () ->
                caller.call(
                    "ec2:DescribeRouteTables",
                    null,
                    counted,
                    () -> {
                      throw ErrorClassifierTest.ec2Error(
                          503, "RequestLimitExceeded", "Request limit exceeded.");
                    }));
    assertEquals(AwsCaller.MAX_ATTEMPTS, e.error().attempts());
    assertEquals(AwsError.Kind.THROTTLED, e.kind());
  }

  private static final class TestClock extends Clock {
    private Instant now = Instant.parse("2025-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }
}
