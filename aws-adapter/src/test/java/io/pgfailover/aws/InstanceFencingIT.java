package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.VpcFixture;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class InstanceFencingIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  private static final Duration BOUND = Duration.ofSeconds(30);

  private final FaultInjector faults = new FaultInjector();
  private AwsClients clients;
  private InstanceFencing fencing;

  @BeforeEach
  void open() {
    clients = Emulated.clients(aws, faults);
    fencing = new InstanceFencing(clients);
  }

  @AfterEach
  void close() {
    clients.close();
  }

  @Test
  void stopsARunningInstance() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();

    FenceResult result = fencing.stopInstance(vpc.primary().instanceId(), BOUND);

    assertEquals(FenceResult.Outcome.STOPPED, result.outcome(), result.toString());
    assertTrue(result.fenced());
    assertEquals(Optional.of("running"), result.stateBefore());
    assertTrue(
        Set.of("stopping", "stopped").contains(result.stateAfter().orElseThrow()),
        result.toString());
    assertEquals(1, faults.sent("StopInstances"));
    assertEquals(
        result.apiCalls(), faults.sent("StopInstances") + faults.sent("DescribeInstances"));
    assertEquals(
        "running",
        new Ec2Discovery(clients).describeInstance(vpc.standby().instanceId()).state(),
        "only the fenced one stops");
  }

  @Test
  void anAlreadyStoppedInstanceGetsNoCall() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    aws.ec2Client().stopInstances(r -> r.instanceIds(vpc.primary().instanceId()));

    FenceResult result = fencing.stopInstance(vpc.primary().instanceId(), BOUND);

    assertEquals(FenceResult.Outcome.ALREADY_STOPPED, result.outcome());
    assertTrue(result.fenced());
    assertEquals(0, faults.sent("StopInstances"));
    assertEquals(1, result.apiCalls());
  }

  @Test
  void stoppingTwiceIsIdempotent() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();

    assertTrue(fencing.stopInstance(vpc.primary().instanceId(), BOUND).fenced());
    FenceResult again = fencing.stopInstance(vpc.primary().instanceId(), BOUND);

    assertEquals(FenceResult.Outcome.ALREADY_STOPPED, again.outcome());
    assertEquals(1, faults.sent("StopInstances"));
  }

  @Test
  void anUnknownInstanceFailsWithAValidationError() {
    FenceResult result = fencing.stopInstance("i-0123456789abcdef0", BOUND);

    assertEquals(FenceResult.Outcome.FAILED, result.outcome());
    assertFalse(result.fenced());
    assertEquals(AwsError.Kind.VALIDATION, result.error().orElseThrow().kind());
    assertEquals(0, faults.sent("StopInstances"));
  }

  @Test
  void aDeniedStopIsReportedWithThePermission() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    faults.failBeforeSending(
        "StopInstances",
        FaultInjector.ALWAYS,
        403,
        "UnauthorizedOperation",
        "You are not authorized to perform this operation.");

    FenceResult result = fencing.stopInstance(vpc.primary().instanceId(), BOUND);

    assertEquals(FenceResult.Outcome.FAILED, result.outcome());
    AwsError error = result.error().orElseThrow();
    assertEquals(AwsError.Kind.AUTHORIZATION, error.kind());
    assertEquals(
        "ec2:StopInstances",
        error.action(),
        "named after the call when AWS's message does not say");
    assertEquals(1, faults.sent("StopInstances"));
  }
}
