package io.pgfailover.aws.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FullJitterBackoffTest {
  private static final Duration BASE = Duration.ofMillis(100);
  private static final Duration CAP = Duration.ofSeconds(2);

  @Test
  void ceilingDoublesFromTheBaseUpToTheCap() {
    FullJitterBackoff backoff = new FullJitterBackoff(BASE, CAP, () -> 1.0);
    long[] expected = {100, 200, 400, 800, 1600, 2000, 2000};
    for (int attempt = 1; attempt <= expected.length; attempt++) {
      assertEquals(expected[attempt - 1], backoff.ceilingMillis(attempt), "attempt " + attempt);
      assertEquals(
          expected[attempt - 1], backoff.apply(attempt), "random 1.0 waits the whole ceiling");
    }
    assertEquals(2000, backoff.ceilingMillis(1_000), "no overflow on very late attempts");
  }

  @Test
  void waitIsTheRandomFractionOfTheCeiling() {
    assertEquals(0L, new FullJitterBackoff(BASE, CAP, () -> 0.0).apply(4));
    assertEquals(400L, new FullJitterBackoff(BASE, CAP, () -> 0.5).apply(4));
  }

  @Test
  void jitteredWaitsStayWithinZeroAndTheCeilingAndSpreadOut() {
    Random random = new Random(42);
    FullJitterBackoff backoff = new FullJitterBackoff(BASE, CAP, random::nextDouble);
    for (int attempt = 1; attempt <= 10; attempt++) {
      Set<Long> seen = new HashSet<>();
      for (int i = 0; i < 200; i++) {
        long wait = backoff.apply(attempt);
        assertTrue(
            wait >= 0 && wait <= backoff.ceilingMillis(attempt),
            "attempt " + attempt + " waited " + wait);
        assertTrue(wait <= CAP.toMillis());
        seen.add(wait);
      }
      assertTrue(
          seen.size() > 20,
          "waits for attempt " + attempt + " are not jittered: " + seen.size() + " distinct");
    }
  }

  @Test
  void rejectsACapBelowTheBase() {
    assertEquals(
        "backoff cap (PT0.05S) must be >= base (PT0.1S)",
        assertThrows(
                IllegalArgumentException.class,
                () -> new FullJitterBackoff(BASE, Duration.ofMillis(50), Math::random))
            .getMessage());
  }
}
