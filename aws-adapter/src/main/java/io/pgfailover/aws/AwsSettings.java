package io.pgfailover.aws;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * How the adapter talks to AWS: validated once, never adjusted silently.
 *
 * @param region AWS region code, e.g. {@code eu-west-1}
 * @param endpoint override for EC2 and STS (an emulator); empty for real AWS
 * @param apiCallTimeout bound on one SDK call (SDK retries are off, so one attempt and its set-up)
 * @param apiCallAttemptTimeout bound on one HTTP attempt
 * @param retryDeadline no retry starts after this much time from the first attempt
 * @param maxConcurrency how many route tables are written at once
 * @param dryRunProbes whether preflight checks permissions with {@code DryRun=true}; true only
 *     where the endpoint honours DryRun (real EC2). moto ignores DryRun on route calls and would
 *     make the change.
 */
public record AwsSettings(
    String region,
    Optional<URI> endpoint,
    Duration apiCallTimeout,
    Duration apiCallAttemptTimeout,
    Duration retryDeadline,
    int maxConcurrency,
    boolean dryRunProbes) {

  /**
   * An EC2 API answer takes tens of ms; 2 s lets a slow one through and still fails over promptly.
   */
  public static final Duration DEFAULT_API_CALL_ATTEMPT_TIMEOUT = Duration.ofSeconds(2);

  public static final Duration DEFAULT_API_CALL_TIMEOUT = Duration.ofSeconds(5);

  /**
   * Long enough to ride out an API throttling burst (token buckets refill per second), short for a
   * failover.
   */
  public static final Duration DEFAULT_RETRY_DEADLINE = Duration.ofSeconds(20);

  /** Ten route tables are switched in about one round trip. */
  public static final int DEFAULT_MAX_CONCURRENCY = 10;

  /**
   * EC2's mutating-call token bucket holds about 50 requests: more at once only buys throttling.
   */
  public static final int MAX_CONCURRENCY_LIMIT = 50;

  private static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d+");

  public AwsSettings {
    List<String> problems = new ArrayList<>();
    if (region == null || !REGION.matcher(region).matches()) {
      problems.add("region must be an AWS region code like eu-west-1, got '" + region + "'");
    }
    if (endpoint == null) {
      problems.add("endpoint must be Optional.empty() for real AWS, not null");
    } else {
      endpoint.ifPresent(
          uri -> {
            if (!uri.isAbsolute()
                || uri.getHost() == null
                || !("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))) {
              problems.add(
                  "endpoint must be an http(s) URL like http://127.0.0.1:5000, got '"
                      + uri
                      + "': fix it or leave it unset for real AWS");
            }
          });
    }
    requirePositive("apiCallTimeout", apiCallTimeout, problems);
    requirePositive("apiCallAttemptTimeout", apiCallAttemptTimeout, problems);
    requirePositive("retryDeadline", retryDeadline, problems);
    if (isPositive(apiCallTimeout)
        && isPositive(apiCallAttemptTimeout)
        && apiCallTimeout.compareTo(apiCallAttemptTimeout) < 0) {
      problems.add(
          "apiCallTimeout ("
              + apiCallTimeout
              + ") must be >= apiCallAttemptTimeout ("
              + apiCallAttemptTimeout
              + "): raise apiCallTimeout or lower apiCallAttemptTimeout");
    }
    if (isPositive(retryDeadline)
        && isPositive(apiCallTimeout)
        && retryDeadline.compareTo(apiCallTimeout) < 0) {
      problems.add(
          "retryDeadline ("
              + retryDeadline
              + ") must be >= apiCallTimeout ("
              + apiCallTimeout
              + "): a deadline shorter than one call leaves no room for a retry");
    }
    if (maxConcurrency < 1 || maxConcurrency > MAX_CONCURRENCY_LIMIT) {
      problems.add(
          "maxConcurrency must be between 1 and "
              + MAX_CONCURRENCY_LIMIT
              + ", got "
              + maxConcurrency);
    }
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid AWS settings: " + String.join("; ", problems));
    }
  }

  /** Real AWS in {@code region} with the default timeouts, retry deadline and concurrency. */
  public static AwsSettings defaults(String region) {
    return new AwsSettings(
        region,
        Optional.empty(),
        DEFAULT_API_CALL_TIMEOUT,
        DEFAULT_API_CALL_ATTEMPT_TIMEOUT,
        DEFAULT_RETRY_DEADLINE,
        DEFAULT_MAX_CONCURRENCY,
        true);
  }

  /**
   * Talks to {@code endpoint} (an emulator) instead; DryRun probes go off, as emulators do not
   * honour them.
   */
  public AwsSettings withEndpoint(URI endpoint) {
    return new AwsSettings(
        region,
        Optional.of(Objects.requireNonNull(endpoint, "endpoint")),
        apiCallTimeout,
        apiCallAttemptTimeout,
        retryDeadline,
        maxConcurrency,
        false);
  }

  public AwsSettings withTimeouts(Duration apiCallTimeout, Duration apiCallAttemptTimeout) {
    return new AwsSettings(
        region,
        endpoint,
        apiCallTimeout,
        apiCallAttemptTimeout,
        retryDeadline,
        maxConcurrency,
        dryRunProbes);
  }

  public AwsSettings withRetryDeadline(Duration retryDeadline) {
    return new AwsSettings(
        region,
        endpoint,
        apiCallTimeout,
        apiCallAttemptTimeout,
        retryDeadline,
        maxConcurrency,
        dryRunProbes);
  }

  public AwsSettings withMaxConcurrency(int maxConcurrency) {
    return new AwsSettings(
        region,
        endpoint,
        apiCallTimeout,
        apiCallAttemptTimeout,
        retryDeadline,
        maxConcurrency,
        dryRunProbes);
  }

  public AwsSettings withDryRunProbes(boolean dryRunProbes) {
    return new AwsSettings(
        region,
        endpoint,
        apiCallTimeout,
        apiCallAttemptTimeout,
        retryDeadline,
        maxConcurrency,
        dryRunProbes);
  }

  private static boolean isPositive(Duration d) {
    return d != null && !d.isNegative() && !d.isZero();
  }

  private static void requirePositive(String field, Duration value, List<String> problems) {
    if (!isPositive(value)) {
      problems.add(field + " must be a positive duration, got " + value);
    }
  }
}
