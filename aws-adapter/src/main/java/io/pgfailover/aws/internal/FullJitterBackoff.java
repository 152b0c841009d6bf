package io.pgfailover.aws.internal;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with full jitter: attempt n waits a uniform random time in [0, min(cap, base
 * * 2^(n-1))].
 *
 * <p>Full rather than Resilience4j's "randomized" (a band around the exponential value): many
 * controllers and scripts throttled at once spread out best when each waits anywhere from zero to
 * the ceiling (AWS Architecture Blog, "Exponential Backoff And Jitter").
 */
public final class FullJitterBackoff implements IntervalFunction {
  /** EC2's API token buckets refill per second: a first wait of 100 ms is already useful. */
  public static final Duration DEFAULT_BASE = Duration.ofMillis(100);

  /**
   * A failover has a deadline of seconds: a 2 s ceiling leaves room for several more attempts
   * inside it.
   */
  public static final Duration DEFAULT_CAP = Duration.ofSeconds(2);

  private final long baseMillis;
  private final long capMillis;
  private final DoubleSupplier random;

  public FullJitterBackoff(Duration base, Duration cap, DoubleSupplier random) {
    if (base.isNegative() || base.isZero()) {
      throw new IllegalArgumentException("backoff base must be > 0, got " + base);
    }
    if (cap.compareTo(base) < 0) {
      throw new IllegalArgumentException(
          "backoff cap (" + cap + ") must be >= base (" + base + ")");
    }
    this.baseMillis = base.toMillis();
    this.capMillis = cap.toMillis();
    this.random = random;
  }

  public static FullJitterBackoff defaults() {
    return new FullJitterBackoff(DEFAULT_BASE, DEFAULT_CAP, Math::random);
  }

  /** The ceiling for attempt n (1-based): base doubled n-1 times, never above the cap. */
  public long ceilingMillis(int attempt) {
    int doublings =
        Math.max(0, Math.min(attempt - 1, 30)); // 2^30 * base is past any cap: avoid overflow
    long exponential = baseMillis << doublings;
    return exponential <= 0 ? capMillis : Math.min(capMillis, exponential);
  }

  @Override
  public Long apply(Integer attempt) {
    double r = random.getAsDouble();
    double clamped = Math.min(Math.max(r, 0.0), 1.0);
    return Math.round(clamped * ceilingMillis(attempt));
  }
}
