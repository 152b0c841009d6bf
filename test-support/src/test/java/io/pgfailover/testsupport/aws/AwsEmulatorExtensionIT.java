package io.pgfailover.testsupport.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.Route;
import software.amazon.awssdk.services.ec2.model.RouteTable;

@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AwsEmulatorExtensionIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  private static final String LEFTOVER_CIDR = "10.99.0.0/16";

  @Test
  @Order(1)
  void fixtureCreatesTheDeployment() {
    Ec2Client ec2 = aws.ec2Client();
    VpcFixture vpc = VpcFixture.builder(ec2).routeTables(3).create();

    assertEquals(2, vpc.subnetIds().size());
    assertNotEquals(vpc.primary().availabilityZone(), vpc.standby().availabilityZone());
    assertEquals(3, vpc.routeTableIds().size());
    for (VpcFixture.Node node : List.of(vpc.primary(), vpc.standby())) {
      Instance instance =
          ec2.describeInstances(r -> r.instanceIds(node.instanceId()))
              .reservations()
              .get(0)
              .instances()
              .get(0);
      assertEquals(vpc.vpcId(), instance.vpcId());
      assertEquals(node.privateIp(), instance.privateIpAddress());
      assertTrue(node.eniId().startsWith("eni-"), node.eniId());
      assertTrue(instance.tags().stream().anyMatch(t -> t.key().equals(VpcFixture.CLUSTER_TAG)));
    }
    List<RouteTable> tables =
        ec2.describeRouteTables(r -> r.routeTableIds(vpc.routeTableIds())).routeTables();
    assertEquals(3, tables.size());
    for (RouteTable table : tables) {
      Route vip =
          table.routes().stream()
              .filter(route -> vpc.vipCidr().equals(route.destinationCidrBlock()))
              .findFirst()
              .orElseThrow();
      assertEquals(vpc.primary().eniId(), vip.networkInterfaceId());
    }
    // leave something behind for the next test to prove reset removed it
    ec2.createVpc(r -> r.cidrBlock(LEFTOVER_CIDR));
  }

  @Test
  @Order(2)
  void stateIsResetBetweenTests() {
    assertFalse(
        aws.ec2Client().describeVpcs().vpcs().stream()
            .anyMatch(v -> LEFTOVER_CIDR.equals(v.cidrBlock())),
        "VPC from the previous test survived the reset");
  }
}
