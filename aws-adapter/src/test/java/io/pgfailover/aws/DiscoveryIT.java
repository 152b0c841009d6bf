package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.VpcFixture;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.ec2.model.AttributeBooleanValue;

class DiscoveryIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  private final FaultInjector faults = new FaultInjector();
  private AwsClients clients;
  private Ec2Discovery discovery;

  @BeforeEach
  void open() {
    clients = Emulated.clients(aws, faults);
    discovery = new Ec2Discovery(clients);
  }

  @AfterEach
  void close() {
    clients.close();
  }

  @Test
  void describesAPostgresInstance() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();

    InstanceInfo info = discovery.describeInstance(vpc.standby().instanceId());

    assertEquals(vpc.standby().instanceId(), info.instanceId());
    assertEquals(vpc.standby().eniId(), info.primaryEniId());
    assertEquals(vpc.standby().privateIp(), info.privateIp());
    assertEquals(vpc.standby().availabilityZone(), info.availabilityZone());
    assertEquals(vpc.standby().subnetId(), info.subnetId());
    assertEquals(vpc.vpcId(), info.vpcId());
    assertEquals("running", info.state());
    assertFalse(info.sourceDestCheck(), "the fixture disables it, as deployments must");
    assertEquals(RouteTarget.networkInterface(vpc.standby().eniId()), info.routeTarget());
  }

  @Test
  void reportsSourceDestCheckFromTheInstanceAttribute() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    aws.ec2Client()
        .modifyInstanceAttribute(
            r ->
                r.instanceId(vpc.primary().instanceId())
                    .sourceDestCheck(AttributeBooleanValue.builder().value(true).build()));

    assertTrue(discovery.describeInstance(vpc.primary().instanceId()).sourceDestCheck());
  }

  @Test
  void describesARouteTableAndItsVirtualIpRoute() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String table = vpc.routeTableIds().get(0);

    RouteTableInfo info = discovery.describeRouteTable(table, vpc.vipCidr());

    assertEquals(table, info.routeTableId());
    assertEquals(vpc.vpcId(), info.vpcId());
    assertEquals(RouteState.Status.ACTIVE, info.vipRoute().status());
    assertEquals(
        Optional.of(RouteTarget.networkInterface(vpc.primary().eniId())), info.vipRoute().target());
    assertEquals(
        RouteState.Status.ABSENT,
        discovery.describeRouteTable(table, "192.168.99.1/32").vipRoute().status());
  }

  @Test
  void unknownInstanceIsAValidationError() {
    AwsCallException e =
        assertThrows(
            AwsCallException.class, () -> discovery.describeInstance("i-0123456789abcdef0"));

    assertEquals(AwsError.Kind.VALIDATION, e.kind());
    assertEquals("InvalidInstanceID.NotFound", e.error().errorCode().orElseThrow());
    assertEquals(1, faults.sent("DescribeInstances"));
  }
}
