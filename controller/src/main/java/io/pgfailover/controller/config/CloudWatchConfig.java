package io.pgfailover.controller.config;

import java.time.Duration;

/**
 * CloudWatch metrics ({@code cloudwatch:}): one batched PutMetricData per interval, off the loop's
 * thread.
 *
 * @param namespace the metrics' namespace; the stack's alarms and its IAM condition name the same
 * @param interval how often the batch is sent (CloudWatch's standard resolution is one minute)
 */
public record CloudWatchConfig(String namespace, Duration interval) {
  public static final String DEFAULT_NAMESPACE = "PgFailover";
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(60);

  /** Below this, a batch per interval costs more than it tells (CloudWatch's high resolution). */
  public static final Duration MIN_INTERVAL = Duration.ofSeconds(1);
}
