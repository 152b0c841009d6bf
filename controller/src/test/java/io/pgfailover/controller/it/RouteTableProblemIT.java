package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgfailover.controller.EmulatorCredentials;
import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A configured route table without the virtual-IP route while creating it is off: the controller
 * raises one alarm that names the table and the fix, keeps the other tables on the primary, and
 * does not call EC2 every loop for a write that cannot succeed; {@code preflight} fails on it.
 */
class RouteTableProblemIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  /** preflight builds its clients from the SDK's default credential chain, as on an instance. */
  @RegisterExtension static EmulatorCredentials credentials = new EmulatorCredentials();

  private static final int LOOPS = 10;

  @TempDir Path dir;
  LabCluster lab;

  @AfterEach
  void close() throws Exception {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void aTableWithoutTheRouteIsAlarmedOnceNotWrittenEveryLoopAndFailsPreflight() throws Exception {
    lab = new LabCluster(pg.pair(), aws, dir, LabConfig.DEFAULT_FAILOVER, Map.of());
    String broken = lab.vpc.routeTableIds().get(1);
    lab.ec2.deleteRoute(r -> r.routeTableId(broken).destinationCidrBlock(lab.vpc.vipCidr()));
    String primary = lab.name(pg.pair().primary());
    String command =
        "aws ec2 create-route --route-table-id "
            + broken
            + " --destination-cidr-block "
            + lab.vpc.vipCidr()
            + " --network-interface-id "
            + lab.eni(primary);

    ControlLoop loop = lab.start();
    LoopReport last =
        lab.awaitDecision(LOOPS + " loops", Duration.ofSeconds(60), r -> loop.loops() >= LOOPS);
    lab.stop();

    assertEquals("ROUTE_TABLE_PROBLEM", last.decision().reason().name(), last.decision().message());
    List<JsonNode> alarms = new ArrayList<>();
    for (String line : Files.readAllLines(lab.eventLog)) {
      JsonNode e = new ObjectMapper().readTree(line);
      if (e.path("event").asText().equals("alarm")) {
        alarms.add(e);
      }
    }
    assertEquals(1, alarms.size(), "one alarm for the whole episode: " + alarms);
    assertEquals("ROUTE_TABLE_PROBLEM", alarms.get(0).path("kind").asText());
    String message = alarms.get(0).path("message").asText();
    assertTrue(
        message.contains(command + ", or set createRouteIfMissing: true"),
        "the alarm names the table and the fix: " + message);
    assertEquals(
        lab.eni(primary),
        lab.routeTargets().get(0),
        "the other table stays on the primary: " + lab.routeTargets());

    // The route tables are read once at start and then every routeRefresh (30 s): no write, and no
    // extra read, per loop.
    Map<String, AtomicInteger> calls = lab.awsCalls;
    assertEquals(List.of(), mutating(calls), "no route write: " + calls);
    int reads = calls.getOrDefault("DescribeRouteTables", new AtomicInteger()).get();
    assertTrue(reads <= 2, reads + " DescribeRouteTables in " + LOOPS + " loops: " + calls);

    ManualIT.Cli preflight = ManualIT.cli("preflight", "-c", lab.configFile.toString());
    assertEquals(ExitCodes.UNHEALTHY, preflight.code(), preflight.out() + "\n" + preflight.err());
    assertTrue(
        preflight.out().contains("FAIL  " + broken),
        "a FAIL line names the table:\n" + preflight.out());
    assertTrue(
        preflight.out().contains("fix: " + command + ", or set createRouteIfMissing: true"),
        "with the exact command:\n" + preflight.out());
  }

  private static List<String> mutating(Map<String, AtomicInteger> calls) {
    return calls.keySet().stream().filter(AwsCallCounter.MUTATING::contains).toList();
  }
}
