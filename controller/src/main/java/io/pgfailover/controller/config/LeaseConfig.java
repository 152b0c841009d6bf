package io.pgfailover.controller.config;

import java.time.Duration;

/**
 * The controller pair's lease in DynamoDB (absent: single-controller mode, as before).
 *
 * <p>A leader renews every {@code renewInterval} and stops acting once its own monotonic clock says
 * {@code duration − safetyMargin} passed since the last renewal it sent; a follower takes over only
 * after seeing the same lease item unchanged for {@code duration} by its own clock. No clocks are
 * compared across hosts.
 *
 * @param table the DynamoDB table (partition key {@code cluster}, a string)
 * @param controller this controller's name in the lease item and logs (a process id is appended)
 * @param callTimeout bound on one DynamoDB call, retries included
 * @param safetyMargin how long before anyone may take over a leader stops acting: covers a call
 *     already checked but not yet sent, and clock-rate drift
 */
public record LeaseConfig(
    String table,
    String controller,
    Duration duration,
    Duration renewInterval,
    Duration callTimeout,
    Duration safetyMargin) {
  public static final Duration DEFAULT_DURATION = Duration.ofSeconds(10);
  public static final Duration DEFAULT_RENEW_INTERVAL = Duration.ofSeconds(2);
  public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(1);
  public static final Duration DEFAULT_SAFETY_MARGIN = Duration.ofSeconds(2);

  /** The shortest {@link #watchInterval}: a follower reads the item at most 4 times a second. */
  public static final Duration MIN_WATCH_INTERVAL = Duration.ofMillis(250);

  /**
   * How often a follower reads the item between its loops: a quarter of {@code renewInterval}, so
   * that it sees a renewal within a fraction of the interval (a takeover counts from that
   * sighting), and no more often than {@link #MIN_WATCH_INTERVAL}.
   */
  public Duration watchInterval() {
    Duration quarter = renewInterval.dividedBy(4);
    return quarter.compareTo(MIN_WATCH_INTERVAL) < 0 ? MIN_WATCH_INTERVAL : quarter;
  }

  /** How long a leader may act after the renewal it sent last: {@code duration − safetyMargin}. */
  public Duration actingWindow() {
    return duration.minus(safetyMargin);
  }
}
