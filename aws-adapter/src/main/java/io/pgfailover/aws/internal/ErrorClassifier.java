package io.pgfailover.aws.internal;

import io.pgfailover.aws.AwsError;
import io.pgfailover.aws.AwsError.Kind;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.http.HttpTimeoutException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;

/**
 * Maps whatever an SDK call threw to an {@link AwsError}: the kind decides retrying, the rest is
 * for people.
 */
public final class ErrorClassifier {
  private static final Set<String> THROTTLING_CODES =
      Set.of(
          "RequestLimitExceeded",
          "Throttling",
          "ThrottlingException",
          "ThrottledException",
          "RequestThrottled",
          "RequestThrottledException",
          "TooManyRequestsException",
          "SlowDown",
          "PriorRequestNotComplete",
          "EC2ThrottledException");

  private static final Set<String> SERVER_CODES =
      Set.of("InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable");

  private static final Set<String> AUTHORIZATION_CODES =
      Set.of(
          "UnauthorizedOperation",
          "AuthFailure",
          "InvalidClientTokenId",
          "UnrecognizedClientException",
          "SignatureDoesNotMatch",
          "ExpiredToken",
          "ExpiredTokenException",
          "OptInRequired",
          "Blocked");

  private static final Set<String> VALIDATION_CODES =
      Set.of(
          "MissingParameter",
          "ValidationError",
          "ValidationException",
          "UnknownParameter",
          "MissingAction",
          "RouteAlreadyExists",
          "IncorrectState",
          "IncorrectInstanceState",
          "DryRunOperation");

  /**
   * "... is not authorized to perform: ec2:ReplaceRoute on resource: ..." in EC2's and STS's
   * messages.
   */
  private static final Pattern PERMISSION_IN_MESSAGE =
      Pattern.compile("perform: ([a-z0-9-]+:[A-Za-z0-9*]+)");

  private ErrorClassifier() {}

  /**
   * @param action the IAM action called, e.g. {@code ec2:ReplaceRoute}
   * @param resourceId the resource the call was about, or null
   */
  public static AwsError classify(
      Throwable thrown, String action, String resourceId, int attempts) {
    Throwable t = unwrap(thrown);
    Optional<String> resource = Optional.ofNullable(resourceId);
    if (t instanceof AwsServiceException service) {
      String code =
          service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
      String message =
          service.awsErrorDetails() != null && service.awsErrorDetails().errorMessage() != null
              ? service.awsErrorDetails().errorMessage()
              : String.valueOf(service.getMessage());
      Kind kind = kindOf(code, service.statusCode());
      String named =
          kind == Kind.AUTHORIZATION ? permissionNamedIn(message).orElse(action) : action;
      return new AwsError(
          kind,
          named,
          resource,
          Optional.ofNullable(code),
          message + " (HTTP " + service.statusCode() + ")",
          attempts);
    }
    // A timeout is an IOException too (InterruptedIOException): asked first.
    boolean timedOut =
        hasCause(t, ApiCallTimeoutException.class)
            || hasCause(t, ApiCallAttemptTimeoutException.class)
            || hasCause(t, HttpTimeoutException.class)
            || hasCause(t, InterruptedIOException.class);
    if (timedOut || hasCause(t, IOException.class)) {
      return new AwsError(
          timedOut ? Kind.TIMEOUT : Kind.NETWORK,
          action,
          resource,
          Optional.empty(),
          String.valueOf(t.getMessage()),
          attempts);
    }
    return new AwsError(Kind.OTHER, action, resource, Optional.empty(), t.toString(), attempts);
  }

  /** The kind for an AWS error code and HTTP status; codes win over the status where both speak. */
  public static Kind kindOf(String code, int httpStatus) {
    if (code != null) {
      if (THROTTLING_CODES.contains(code)) {
        return Kind.THROTTLED;
      }
      if (AUTHORIZATION_CODES.contains(code) || code.startsWith("AccessDenied")) {
        return Kind.AUTHORIZATION;
      }
      if (SERVER_CODES.contains(code)) {
        return Kind.SERVER;
      }
      if (VALIDATION_CODES.contains(code)
          || code.startsWith("Invalid")
          || code.endsWith(".NotFound")
          || code.endsWith(".Malformed")) {
        return Kind.VALIDATION;
      }
    }
    if (httpStatus == 429 || httpStatus == 503) {
      return Kind.THROTTLED;
    }
    if (httpStatus >= 500) {
      return Kind.SERVER;
    }
    if (httpStatus == 401 || httpStatus == 403) {
      return Kind.AUTHORIZATION;
    }
    return Kind.OTHER;
  }

  static Optional<String> permissionNamedIn(String message) {
    if (message == null) {
      return Optional.empty();
    }
    Matcher m = PERMISSION_IN_MESSAGE.matcher(message);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  private static Throwable unwrap(Throwable t) {
    Throwable current = t;
    while ((current instanceof CompletionException || current instanceof ExecutionException)
        && current.getCause() != null) {
      current = current.getCause();
    }
    return current;
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }
}
