package io.pgfailover.aws.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.aws.AwsError;
import io.pgfailover.aws.AwsError.Kind;
import java.net.ConnectException;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;

class ErrorClassifierTest {
  @ParameterizedTest(name = "{0} HTTP {1} -> {2}")
  @CsvSource({
    "RequestLimitExceeded, 503, THROTTLED",
    "Throttling, 400, THROTTLED",
    "ThrottlingException, 400, THROTTLED",
    ", 503, THROTTLED",
    ", 429, THROTTLED",
    "InternalError, 500, SERVER",
    "Unavailable, 500, SERVER",
    ", 502, SERVER",
    "UnauthorizedOperation, 403, AUTHORIZATION",
    "AccessDenied, 403, AUTHORIZATION",
    "AccessDeniedException, 400, AUTHORIZATION",
    "AuthFailure, 401, AUTHORIZATION",
    "InvalidClientTokenId, 403, AUTHORIZATION",
    "InvalidRouteTableID.NotFound, 400, VALIDATION",
    "InvalidNetworkInterfaceID.NotFound, 400, VALIDATION",
    "InvalidInstanceID.NotFound, 400, VALIDATION",
    "InvalidParameterValue, 400, VALIDATION",
    "InvalidRoute.NotFound, 400, VALIDATION",
    "MissingParameter, 400, VALIDATION",
    "RouteAlreadyExists, 400, VALIDATION",
    "DryRunOperation, 412, VALIDATION",
    "SomethingNew, 400, OTHER",
  })
  void kindFollowsCodeThenStatus(String code, int status, Kind expected) {
    assertEquals(expected, ErrorClassifier.kindOf(code, status));
  }

  @Test
  void authorizationNamesThePermissionFromAwsMessage() {
    AwsError error =
        ErrorClassifier.classify(
            ec2Error(
                403,
                "UnauthorizedOperation",
                "You are not authorized to perform this operation. User: arn:aws:iam::1:user/x is"
                    + " not authorized to perform: ec2:CreateRoute on resource:"
                    + " arn:aws:ec2:us-east-1:1:route-table/rtb-1"),
            "ec2:ReplaceRoute",
            "rtb-1",
            1);
    assertEquals(Kind.AUTHORIZATION, error.kind());
    assertEquals("ec2:CreateRoute", error.action(), "AWS's message wins over the call's name");
    assertEquals(Optional.of("rtb-1"), error.resourceId());
    assertEquals(Optional.of("UnauthorizedOperation"), error.errorCode());
  }

  @Test
  void authorizationFallsBackToTheCallsAction() {
    AwsError error =
        ErrorClassifier.classify(
            ec2Error(
                403, "UnauthorizedOperation", "You are not authorized to perform this operation."),
            "ec2:ReplaceRoute",
            "rtb-1",
            1);
    assertEquals("ec2:ReplaceRoute", error.action());
    assertEquals(
        "ec2:ReplaceRoute on rtb-1 failed: AUTHORIZATION UnauthorizedOperation (missing permission"
            + " ec2:ReplaceRoute): You are not authorized to perform this operation. (HTTP 403)",
        error.describe());
  }

  @Test
  void clientSideTimeoutsAndConnectionFailuresAreRetryable() {
    AwsError timeout =
        ErrorClassifier.classify(
            ApiCallAttemptTimeoutException.create(2000), "ec2:DescribeRouteTables", null, 1);
    assertEquals(Kind.TIMEOUT, timeout.kind());
    AwsError refused =
        ErrorClassifier.classify(
            SdkClientException.builder()
                .message("Unable to execute HTTP request")
                .cause(new ConnectException("Connection refused"))
                .build(),
            "ec2:DescribeRouteTables",
            null,
            1);
    assertEquals(Kind.NETWORK, refused.kind());
    assertEquals(true, refused.kind().retryable());
  }

  @Test
  void anythingElseIsOtherAndNotRetried() {
    AwsError error =
        ErrorClassifier.classify(new IllegalStateException("bug"), "ec2:ReplaceRoute", "rtb-1", 1);
    assertEquals(Kind.OTHER, error.kind());
    assertEquals(false, error.kind().retryable());
  }

  static Ec2Exception ec2Error(int status, String code, String message) {
    return (Ec2Exception)
        Ec2Exception.builder()
            .statusCode(status)
            .message(message)
            .awsErrorDetails(
                AwsErrorDetails.builder()
                    .errorCode(code)
                    .errorMessage(message)
                    .serviceName("EC2")
                    .build())
            .build();
  }
}
