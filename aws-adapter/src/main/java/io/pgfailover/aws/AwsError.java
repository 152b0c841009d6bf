package io.pgfailover.aws;

import java.util.Optional;

/**
 * A failed AWS call as a value: what kind of failure (which decides whether retrying can help),
 * which IAM action, on which resource, and AWS's own error code and message.
 *
 * @param kind what went wrong, in the terms the caller decides on
 * @param action the IAM action, e.g. {@code ec2:ReplaceRoute}; for {@link Kind#AUTHORIZATION} the
 *     permission AWS says is missing (parsed from its message, else the action called)
 * @param resourceId the route table, instance or ENI the call was about, when there is one
 * @param errorCode AWS's error code, e.g. {@code InvalidRouteTableID.NotFound}; empty for
 *     client-side failures
 * @param message AWS's or the client's message, plus how many attempts were made when retries gave
 *     up
 * @param attempts how many times the request was sent (1 when it was not retried)
 */
public record AwsError(
    Kind kind,
    String action,
    Optional<String> resourceId,
    Optional<String> errorCode,
    String message,
    int attempts) {

  /**
   * Failure kinds. Retryable ones are retried with backoff under the retry deadline; the others
   * never.
   */
  public enum Kind {
    /** RequestLimitExceeded, Throttling, HTTP 429/503: the API asked us to slow down. */
    THROTTLED(true),
    /** HTTP 5xx other than 503: AWS failed; the same request may succeed. */
    SERVER(true),
    /** No answer within apiCallAttemptTimeout/apiCallTimeout. */
    TIMEOUT(true),
    /** Connection refused or reset, DNS failure: the request may not have left this host. */
    NETWORK(true),
    /** UnauthorizedOperation, AccessDenied*, bad credentials: fix IAM, retrying cannot help. */
    AUTHORIZATION(false),
    /** Invalid*, *.NotFound, missing parameters: fix the input or the configuration. */
    VALIDATION(false),
    /** Anything else; not retried. */
    OTHER(false);

    private final boolean retryable;

    Kind(boolean retryable) {
      this.retryable = retryable;
    }

    public boolean retryable() {
      return retryable;
    }
  }

  public AwsError {
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must be >= 0, got " + attempts);
    }
  }

  /** One sentence for logs, findings and results. */
  public String describe() {
    StringBuilder text = new StringBuilder(action);
    resourceId.ifPresent(id -> text.append(" on ").append(id));
    text.append(" failed: ").append(kind);
    errorCode.ifPresent(code -> text.append(' ').append(code));
    if (kind == Kind.AUTHORIZATION) {
      text.append(" (missing permission ").append(action).append(')');
    }
    text.append(": ").append(message);
    return text.toString();
  }
}
