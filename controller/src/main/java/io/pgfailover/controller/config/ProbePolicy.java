package io.pgfailover.controller.config;

import java.time.Duration;

/**
 * How the loop watches the nodes.
 *
 * <p>How soon a failed primary is confirmed follows from these and the witness window: see {@link
 * Detection} (the defaults confirm a crash in 2–2.25 s). A lower threshold fails over faster but
 * turns a short network blip into a failover.
 *
 * @param timeout one deadline for connect, login and queries of one probe; must not exceed the
 *     interval
 * @param routeRefresh how often the route tables are re-read when nothing changed (EC2 calls cost
 *     quota)
 * @param writeCheck also write a heartbeat row on the primary, catching one that is up but cannot
 *     write
 */
public record ProbePolicy(
    Duration interval,
    Duration timeout,
    int failureThreshold,
    boolean writeCheck,
    Duration routeRefresh) {
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  public static final int DEFAULT_FAILURE_THRESHOLD = 3;
  public static final Duration DEFAULT_ROUTE_REFRESH = Duration.ofSeconds(30);

  /**
   * How often the leading controller probes an answering primary between loops (the loop's watch):
   * a quarter interval, so that a fault meets a probe within that, not up to an interval later.
   */
  public Duration watchEvery() {
    return interval.dividedBy(4);
  }
}
