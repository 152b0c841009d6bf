package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.aws.Finding.Severity;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.VpcFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.ec2.model.AttributeBooleanValue;

class PreflightIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  private final FaultInjector faults = new FaultInjector();
  private AwsClients clients;

  @AfterEach
  void close() {
    if (clients != null) {
      clients.close();
    }
  }

  private List<Finding> run(Preflight.Request request) {
    return run(request, UnaryOperator.identity());
  }

  private List<Finding> run(Preflight.Request request, UnaryOperator<AwsSettings> tweak) {
    clients = Emulated.clients(aws, faults, tweak);
    return new Preflight(clients).run(request);
  }

  private static Preflight.Request request(VpcFixture vpc) {
    return new Preflight.Request(
        Optional.of(vpc.vpcId()),
        vpc.vipCidr(),
        vpc.routeTableIds(),
        List.of(vpc.primary().instanceId(), vpc.standby().instanceId()),
        false);
  }

  @Test
  void aHealthyDeploymentPasses() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();

    List<Finding> findings = run(request(vpc));

    assertTrue(Preflight.passed(findings), findings::toString);
    Finding identity = only(findings, "identity");
    assertEquals(Severity.OK, identity.severity());
    assertTrue(
        identity.message().contains("arn:aws:") && identity.message().contains(aws.accountId()),
        identity.message());
    for (String table : vpc.routeTableIds()) {
      Finding f = only(findings, table);
      assertEquals(Severity.OK, f.severity(), f::toString);
      assertTrue(f.message().contains(vpc.primary().eniId()), f.message());
    }
    assertEquals(Severity.OK, only(findings, vpc.primary().instanceId()).severity());
    assertEquals(Severity.OK, only(findings, "virtual IP " + vpc.vipCidr()).severity());
    // With an endpoint override, permissions are not probed: moto would carry out a DryRun
    // ReplaceRoute.
    assertEquals(Severity.WARN, only(findings, "permissions").severity());
    assertEquals(0, faults.sentMutating());
  }

  @Test
  void sourceDestCheckEnabledFailsWithTheCommandThatFixesIt() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String standby = vpc.standby().instanceId();
    aws.ec2Client()
        .modifyInstanceAttribute(
            r ->
                r.instanceId(standby)
                    .sourceDestCheck(AttributeBooleanValue.builder().value(true).build()));

    List<Finding> findings = run(request(vpc));

    assertFalse(Preflight.passed(findings));
    Finding f = only(findings, standby);
    assertEquals(Severity.FAIL, f.severity());
    assertTrue(f.message().contains("source/dest check is enabled"), f.message());
    assertEquals(
        Optional.of(
            "aws ec2 modify-instance-attribute --instance-id "
                + standby
                + " --no-source-dest-check"),
        f.fix());
  }

  @Test
  void aRouteTableOfAnotherVpcFails() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String otherVpc = aws.ec2Client().createVpc(r -> r.cidrBlock("10.1.0.0/16")).vpc().vpcId();
    String foreign =
        aws.ec2Client().createRouteTable(r -> r.vpcId(otherVpc)).routeTable().routeTableId();
    List<String> tables = new ArrayList<>(vpc.routeTableIds());
    tables.add(foreign);

    List<Finding> findings =
        run(
            new Preflight.Request(
                Optional.empty(),
                vpc.vipCidr(),
                tables,
                List.of(vpc.primary().instanceId(), vpc.standby().instanceId()),
                false));

    Finding f = only(findings, foreign);
    assertEquals(Severity.FAIL, f.severity());
    assertTrue(
        f.message().contains("belongs to " + otherVpc)
            && f.message().contains("expected " + vpc.vpcId()),
        f.message());
  }

  @Test
  void aMissingRouteFailsUnlessCreatingIsAllowed() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).vipRoute(false).create();
    Preflight.Request strict = request(vpc);
    Preflight.Request lenient =
        new Preflight.Request(
            strict.vpcId(), strict.vipCidr(), strict.routeTableIds(), strict.instanceIds(), true);

    List<Finding> refused = run(strict);
    clients.close();
    List<Finding> allowed = run(lenient);

    for (String table : vpc.routeTableIds()) {
      Finding f = only(refused, table);
      assertEquals(Severity.FAIL, f.severity());
      assertTrue(
          f.fix().orElseThrow().startsWith("aws ec2 create-route --route-table-id " + table),
          f.fix().orElseThrow());
      assertEquals(Severity.WARN, only(allowed, table).severity());
    }
    assertTrue(Preflight.passed(allowed), allowed::toString);
  }

  @Test
  void unknownTablesAndInstancesAndAVirtualIpInsideTheVpcFail() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String missingTable = "rtb-0123456789abcdef0";
    String missingInstance = "i-0123456789abcdef0";

    List<Finding> findings =
        run(
            new Preflight.Request(
                Optional.of(vpc.vpcId()),
                "10.0.200.1/32",
                List.of(vpc.routeTableIds().get(0), missingTable),
                List.of(vpc.primary().instanceId(), missingInstance),
                false));

    assertEquals(Severity.FAIL, only(findings, missingTable).severity());
    assertEquals(Severity.FAIL, only(findings, missingInstance).severity());
    Finding vip = only(findings, "virtual IP 10.0.200.1/32");
    assertEquals(Severity.FAIL, vip.severity());
    assertTrue(vip.message().contains("10.0.0.0/16"), vip.message());
  }

  @Test
  void dryRunProbesReportAllowedAndMissingPermissions() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    // What real EC2 answers to DryRun calls; thrown before sending, so moto never sees (and never
    // performs) them.
    faults.failBeforeSending(
        "ReplaceRoute",
        FaultInjector.ALWAYS,
        412,
        "DryRunOperation",
        "Request would have succeeded, but DryRun flag is set.");
    faults.failBeforeSending(
        "StopInstances",
        FaultInjector.ALWAYS,
        403,
        "UnauthorizedOperation",
        "You are not authorized to perform this operation. User:"
            + " arn:aws:sts::123456789012:assumed-role/pgfailover/i-0abc is not authorized to"
            + " perform: ec2:StopInstances on resource:"
            + " arn:aws:ec2:us-east-1:123456789012:instance/*");

    List<Finding> findings = run(request(vpc), s -> s.withDryRunProbes(true));

    for (String table : vpc.routeTableIds()) {
      Finding f = only(findings, "permission ec2:ReplaceRoute on " + table);
      assertEquals(Severity.OK, f.severity(), f::toString);
    }
    for (String instance : List.of(vpc.primary().instanceId(), vpc.standby().instanceId())) {
      Finding f = only(findings, "permission ec2:StopInstances on " + instance);
      assertEquals(Severity.FAIL, f.severity());
      assertTrue(f.message().startsWith("missing permission ec2:StopInstances"), f.message());
      assertTrue(f.fix().orElseThrow().contains("allow ec2:StopInstances"), f.fix().orElseThrow());
    }
    assertEquals(2, faults.sent("ReplaceRoute"));
    assertEquals(2, faults.sent("StopInstances"));
    assertEquals(
        "running",
        new Ec2Discovery(clients).describeInstance(vpc.primary().instanceId()).state(),
        "nothing was stopped");
  }

  private static Finding only(List<Finding> findings, String subject) {
    List<Finding> matching = findings.stream().filter(f -> f.subject().equals(subject)).toList();
    assertEquals(1, matching.size(), () -> "findings for " + subject + ": " + findings);
    return matching.get(0);
  }
}
