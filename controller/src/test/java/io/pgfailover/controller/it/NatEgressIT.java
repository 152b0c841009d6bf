package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.wiring.Wiring;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.lab.Lab;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.Route;

/**
 * NAT egress failover on the emulator: controller A watches NAT instance B; when B stops, AZ B's
 * private route table's {@code 0.0.0.0/0} moves to A's NAT through the same route-switching code
 * and event history, and back once B runs again. (No PostgreSQL here: the nodes point at closed
 * ports, and the database half of the loop only raises alarms.)
 */
class NatEgressIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  @TempDir Path dir;

  @Test
  void whenThePeerNatIsLostItsAzDefaultRouteMovesToTheSurvivorAndBack() throws Exception {
    Ec2Client ec2 = aws.ec2Client();
    VpcFixture vpc = VpcFixture.builder(ec2).clusterName("nat").routeTables(2).create();
    Instance natA = nat(ec2, vpc.subnetIds().get(0));
    Instance natB = nat(ec2, vpc.subnetIds().get(1));
    String eniA = natA.networkInterfaces().get(0).networkInterfaceId();
    String eniB = natB.networkInterfaces().get(0).networkInterfaceId();
    String tableA = vpc.routeTableIds().get(0);
    String tableB = vpc.routeTableIds().get(1);
    ec2.createRoute(
        r -> r.routeTableId(tableA).destinationCidrBlock("0.0.0.0/0").networkInterfaceId(eniA));
    ec2.createRoute(
        r -> r.routeTableId(tableB).destinationCidrBlock("0.0.0.0/0").networkInterfaceId(eniB));

    Path events = dir.resolve("events.jsonl");
    String yaml =
        String.join(
            "\n",
            "cluster: nat",
            "aws: {region: " + aws.region() + ", endpoint: '" + aws.endpoint() + "'}",
            "virtualIp: " + vpc.vipCidr(),
            "routeTables: [" + String.join(", ", vpc.routeTableIds()) + "]",
            "nodes:",
            "  - {name: pg-a, instanceId: "
                + vpc.primary().instanceId()
                + ", eniId: "
                + vpc.primary().eniId()
                + ", host: 127.0.0.1, port: "
                + Lab.freePort()
                + ", user: u, password: {env: UNUSED}}",
            "  - {name: pg-b, instanceId: "
                + vpc.standby().instanceId()
                + ", eniId: "
                + vpc.standby().eniId()
                + ", host: 127.0.0.1, port: "
                + Lab.freePort()
                + ", user: u, password: {env: UNUSED}}",
            "probe: {interval: 1s, timeout: 500ms}",
            "admin: {listen: '127.0.0.1:0'}",
            "eventLog: " + events,
            "nat:",
            "  instanceId: " + natA.instanceId(),
            "  peer: {instanceId: " + natB.instanceId() + ", routeTables: [" + tableB + "]}",
            "  failureThreshold: 2",
            "  failback: true",
            "");
    ControllerConfig config = ConfigLoader.parse(yaml, "nat.yaml");
    try (Backends backends =
            Wiring.connect(config, Wiring.AwsAccess.credentials(aws.credentialsProvider()));
        ControlLoop loop =
            new ControlLoop(
                config,
                backends.ports(),
                new EventLog(events, Clock.systemUTC(), "nat"),
                new Metrics(),
                Clock.systemUTC(),
                Leadership.single())) {
      loop.runOnce();
      loop.runOnce();
      assertEquals(eniB, defaultRoute(ec2, tableB), "a healthy peer keeps its AZ's egress");

      ec2.stopInstances(r -> r.instanceIds(natB.instanceId()));
      loop.runOnce();
      assertEquals(eniB, defaultRoute(ec2, tableB), "one failed check is not enough (threshold 2)");
      loop.runOnce();
      assertEquals(eniA, defaultRoute(ec2, tableB), "AZ B's egress now goes through the survivor");
      assertEquals(eniA, defaultRoute(ec2, tableA), "its own AZ's table is untouched");
      assertEquals(
          vpc.primary().eniId(),
          virtualIpRoute(ec2, tableB, vpc.vipCidr()),
          "the virtual IP route is not the egress route");

      ec2.startInstances(r -> r.instanceIds(natB.instanceId()));
      loop.runOnce();
      loop.runOnce();
      assertEquals(eniB, defaultRoute(ec2, tableB), "failback once the peer runs again");
    }
    List<JsonNode> moves =
        EventLog.tail(events, 200).stream()
            .filter(e -> e.path("action").asText().equals("point_egress_routes"))
            .toList();
    assertEquals(
        List.of(
            "action_started:self",
            "action_finished:self",
            "action_started:peer",
            "action_finished:peer"),
        moves.stream().map(e -> e.path("event").asText() + ":" + e.path("to").asText()).toList());
    assertTrue(moves.get(1).path("ok").asBoolean(), moves.get(1).toString());
    assertTrue(moves.get(0).path("why").asText().contains("stopped"), moves.get(0).toString());
  }

  private static Instance nat(Ec2Client ec2, String subnet) {
    return ec2.runInstances(
            r ->
                r.imageId("ami-12c6146b")
                    .instanceType(InstanceType.T3_MICRO)
                    .minCount(1)
                    .maxCount(1)
                    .subnetId(subnet))
        .instances()
        .get(0);
  }

  private static String defaultRoute(Ec2Client ec2, String table) {
    return virtualIpRoute(ec2, table, "0.0.0.0/0");
  }

  private static String virtualIpRoute(Ec2Client ec2, String table, String cidr) {
    return ec2
        .describeRouteTables(r -> r.routeTableIds(table))
        .routeTables()
        .get(0)
        .routes()
        .stream()
        .filter(r -> cidr.equals(r.destinationCidrBlock()))
        .findFirst()
        .map(Route::networkInterfaceId)
        .orElse("none");
  }
}
