package io.pgfailover.aws;

/**
 * An AWS call that failed for good: retried where that could help and gave up, or not retryable at
 * all.
 */
public final class AwsCallException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient AwsError error;

  public AwsCallException(AwsError error, Throwable cause) {
    super(error.describe(), cause);
    this.error = error;
  }

  public AwsError error() {
    return error;
  }

  public AwsError.Kind kind() {
    return error.kind();
  }
}
