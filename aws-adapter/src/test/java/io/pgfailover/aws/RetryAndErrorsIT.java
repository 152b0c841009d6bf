package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.aws.RouteSwitchResult.Outcome;
import io.pgfailover.aws.RouteSwitchResult.TableResult;
import io.pgfailover.aws.internal.AwsCaller;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.VpcFixture;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The retry policy and error mapping against moto, with faults injected by an SDK interceptor. */
class RetryAndErrorsIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  private static final String UNAUTHORIZED_MESSAGE =
      "You are not authorized to perform this operation. User:"
          + " arn:aws:sts::123456789012:assumed-role/pgfailover/i-0abc is not authorized to"
          + " perform: ec2:ReplaceRoute on resource:"
          + " arn:aws:ec2:us-east-1:123456789012:route-table/rtb-1 because no identity-based policy"
          + " allows the ec2:ReplaceRoute action.";

  private final FaultInjector faults = new FaultInjector();
  private AwsClients clients;

  @AfterEach
  void close() {
    if (clients != null) {
      clients.close();
    }
  }

  @Test
  void throttledWritesAreRetriedUntilTheySucceed() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(1).create();
    faults.failBeforeSending(
        "ReplaceRoute", 3, 503, "RequestLimitExceeded", "Request limit exceeded.");
    clients = Emulated.clients(aws, faults);

    RouteSwitchResult result =
        new RouteTables(clients)
            .pointRoute(
                vpc.vipCidr(),
                vpc.routeTableIds(),
                RouteTarget.networkInterface(vpc.standby().eniId()),
                false);

    assertTrue(result.allOk(), result::summary);
    assertEquals(Outcome.REPLACED, result.tables().get(0).outcome());
    assertEquals(
        4, faults.sent("ReplaceRoute"), "three throttled attempts, then the one that succeeded");
    assertEquals(6, result.apiCalls(), "read, four ReplaceRoute attempts, read back");
    assertEquals(6, clients.requestsSent());
  }

  @Test
  void throttledReadsParsedFromTheResponseAreRetried() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(2).create();
    // The emulator answers, then the answer is swapped for EC2's throttling error document.
    faults.replaceResponse(
        "DescribeRouteTables", 2, 503, "RequestLimitExceeded", "Request limit exceeded.");
    clients = Emulated.clients(aws, faults);

    var states = new RouteTables(clients).readRoutes(vpc.vipCidr(), vpc.routeTableIds());

    assertEquals(2, states.size());
    states.values().forEach(s -> assertEquals(RouteState.Status.ACTIVE, s.status()));
    assertEquals(3, faults.sent("DescribeRouteTables"));
  }

  @Test
  void persistentServerErrorsGiveUpAtTheDeadlineAsServer() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(2).create();
    faults.replaceResponse(
        "DescribeRouteTables",
        FaultInjector.ALWAYS,
        500,
        "InternalError",
        "An internal error has occurred.");
    Duration deadline = Duration.ofSeconds(2);
    clients =
        Emulated.clients(
            aws,
            faults,
            s ->
                s.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1))
                    .withRetryDeadline(deadline));
    RouteTables routeTables = new RouteTables(clients);

    AwsCallException e =
        assertThrows(
            AwsCallException.class,
            () -> routeTables.readRoutes(vpc.vipCidr(), vpc.routeTableIds()));

    AwsError error = e.error();
    assertEquals(AwsError.Kind.SERVER, error.kind());
    assertEquals("ec2:DescribeRouteTables", error.action());
    assertEquals("InternalError", error.errorCode().orElseThrow());
    assertTrue(
        error.attempts() >= 2 && error.attempts() <= AwsCaller.MAX_ATTEMPTS,
        "attempts=" + error.attempts());
    assertEquals(
        error.attempts(),
        faults.sent("DescribeRouteTables"),
        "every attempt counted, none after giving up");
    assertTrue(
        e.getMessage().contains("gave up after " + error.attempts() + " attempts"), e.getMessage());
    assertTrue(e.getMessage().contains("retry deadline 2000 ms"), e.getMessage());

    // pointRoute turns the same failure into per-table values and writes nothing it could not read
    // first.
    int before = faults.sent("DescribeRouteTables");
    RouteSwitchResult result =
        routeTables.pointRoute(
            vpc.vipCidr(),
            vpc.routeTableIds(),
            RouteTarget.networkInterface(vpc.standby().eniId()),
            false);
    assertFalse(result.allOk());
    for (TableResult table : result.tables()) {
      assertEquals(Outcome.FAILED, table.outcome());
      assertEquals(AwsError.Kind.SERVER, table.error().orElseThrow().kind());
    }
    assertEquals(0, faults.sentMutating());
    assertEquals(result.apiCalls(), faults.sent("DescribeRouteTables") - before);
  }

  @Test
  void aReadWithItsOwnShorterDeadlineGivesUpAtThatDeadline() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(1).create();
    faults.replaceResponse(
        "DescribeRouteTables", FaultInjector.ALWAYS, 503, "Unavailable", "Service unavailable.");
    clients =
        Emulated.clients(
            aws,
            faults,
            s ->
                s.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(1))
                    .withRetryDeadline(Duration.ofSeconds(20)));
    AwsCallException e =
        assertThrows(
            AwsCallException.class,
            () ->
                new RouteTables(clients)
                    .readRoutes(vpc.vipCidr(), vpc.routeTableIds(), Duration.ofMillis(300)));
    assertEquals(AwsError.Kind.SERVER, e.error().kind());
    assertTrue(e.getMessage().contains("retry deadline 300 ms"), e.getMessage());
    assertEquals(
        e.error().attempts(),
        faults.sent("DescribeRouteTables"),
        "every attempt counted, none after giving up");
  }

  @Test
  void unknownRouteTableIsAValidationErrorAndNotRetried() {
    clients = Emulated.clients(aws, faults);

    AwsCallException e =
        assertThrows(
            AwsCallException.class,
            () ->
                new Ec2Discovery(clients)
                    .describeRouteTable("rtb-0123456789abcdef0", VpcFixture.DEFAULT_VIP_CIDR));

    assertEquals(AwsError.Kind.VALIDATION, e.kind());
    assertEquals("InvalidRouteTableID.NotFound", e.error().errorCode().orElseThrow());
    assertEquals("rtb-0123456789abcdef0", e.error().resourceId().orElseThrow());
    assertEquals(1, e.error().attempts());
    assertEquals(1, faults.sent("DescribeRouteTables"));
  }

  @Test
  void unauthorizedWriteFailsTheTableWithTheMissingPermissionAndIsNotRetried() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(1).create();
    faults.failBeforeSending(
        "ReplaceRoute", FaultInjector.ALWAYS, 403, "UnauthorizedOperation", UNAUTHORIZED_MESSAGE);
    clients = Emulated.clients(aws, faults);
    String table = vpc.routeTableIds().get(0);

    RouteSwitchResult result =
        new RouteTables(clients)
            .pointRoute(
                vpc.vipCidr(),
                List.of(table),
                RouteTarget.networkInterface(vpc.standby().eniId()),
                false);

    TableResult only = result.tables().get(0);
    assertEquals(Outcome.FAILED, only.outcome());
    AwsError error = only.error().orElseThrow();
    assertEquals(AwsError.Kind.AUTHORIZATION, error.kind());
    assertEquals("ec2:ReplaceRoute", error.action());
    assertEquals(table, error.resourceId().orElseThrow());
    assertTrue(
        only.reason().orElseThrow().contains("missing permission ec2:ReplaceRoute"),
        only.reason().orElseThrow());
    assertEquals(1, faults.sent("ReplaceRoute"), "authorization errors are never retried");
    assertEquals(
        List.of(RouteTarget.networkInterface(vpc.primary().eniId())),
        only.after().stream().toList(),
        "route left where it was");
  }
}
