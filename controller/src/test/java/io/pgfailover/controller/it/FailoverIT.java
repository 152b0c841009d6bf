package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's loop on the real pair and the emulator: the failures it must fail over on, and the
 * restart.
 */
class FailoverIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  static final Duration FAILOVER_BOUND = Duration.ofSeconds(60);

  @TempDir Path dir;
  LabCluster lab;

  @AfterEach
  void close() throws Exception {
    if (lab != null) {
      lab.close();
    }
  }

  LabCluster cluster() throws Exception {
    lab =
        new LabCluster(
            pg.pair(),
            aws,
            dir,
            io.pgfailover.testsupport.lab.LabConfig.DEFAULT_FAILOVER,
            Map.of());
    return lab;
  }

  @Test
  void aKilledPrimaryIsFailedOverAndTheTimelineRecorded() throws Exception {
    LabCluster c = cluster();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    c.start();
    c.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);
    assertTrue(c.routesOn(c.name(primary)));

    pg.kill(primary);
    LoopReport after =
        c.awaitDecision(
            "failover to " + c.name(standby),
            FAILOVER_BOUND,
            r -> r.timeline().filter(t -> t.completed()).isPresent());
    assertTrue(
        c.routesOn(c.name(standby)),
        "every route table sends the virtual IP to the new primary: " + c.routeTargets());
    assertEquals("f", query(standby, "SELECT pg_is_in_recovery()"));
    assertEquals(
        List.of("failure_first_seen", "confirmed", "promoted", "routes_switched", "verified"),
        List.copyOf(after.timeline().get().phasesMs().keySet()));

    List<JsonNode> events = EventLog.tail(c.eventLog, 200);
    JsonNode timeline =
        events.stream()
            .filter(e -> e.path("event").asText().equals("failover_timeline"))
            .reduce((a, b) -> b)
            .orElseThrow();
    assertTrue(timeline.path("completed").asBoolean());
    assertEquals(c.name(standby), timeline.path("to").asText());
    List<String> order =
        events.stream()
            .filter(e -> e.path("event").asText().startsWith("action_"))
            .map(e -> e.path("event").asText() + ":" + e.path("action").asText())
            .toList();
    assertEquals(
        List.of(
            "action_started:promote",
            "action_finished:promote",
            "action_started:point_routes",
            "action_finished:point_routes"),
        order);
    JsonNode switched =
        events.stream()
            .filter(e -> e.path("event").asText().equals("action_finished"))
            .filter(e -> e.path("action").asText().equals("point_routes"))
            .findFirst()
            .orElseThrow();
    int tables = c.routeTargets().size();
    assertEquals(
        tables + 1,
        switched.path("api_calls").asInt(),
        "the loop's read stood for the switch's first read: a replace per table, one read back: "
            + switched);

    c.awaitDecision(
        "a healthy loop on the new primary",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);
  }

  @Test
  void aFrozenPrimaryIsFailedOverAndNeverRoutedToWhenItThaws() throws Exception {
    LabCluster c = cluster();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    c.start();
    c.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);

    pg.freeze(primary);
    c.awaitDecision(
        "failover after the freeze",
        FAILOVER_BOUND,
        r -> r.timeline().filter(t -> t.completed()).isPresent());
    assertTrue(c.routesOn(c.name(standby)));

    pg.thaw(primary);
    LoopReport two =
        c.awaitDecision(
            "the thawed old primary seen beside the new one",
            Duration.ofSeconds(30),
            r -> r.decision().reason() == Reason.TWO_PRIMARIES);
    assertTrue(
        two.decision().message().contains("old primary " + c.name(primary)),
        two.decision().message());
    long seen = c.metrics.counter("pgfailover_alarms_total", "kind=\"TWO_PRIMARIES\"");
    assertTrue(seen >= 1);
    assertTrue(c.routesOn(c.name(standby)), "the route stays with the newest timeline");
  }

  @Test
  void aControllerKilledBetweenPromotionAndRouteSwitchRepairsTheRouteOnRestart() throws Exception {
    LabCluster c = cluster();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    // What a controller killed right after promoting leaves: a new primary, the routes still on the
    // old one.
    pg.kill(primary);
    pg.promote(standby);
    assertTrue(c.routesOn(c.name(primary)));

    try (ControlLoop restarted = c.newLoop()) {
      LoopReport first = restarted.runOnce();
      assertEquals(Reason.REPOINT_ROUTES, first.decision().reason(), first.decision().message());
      assertTrue(first.ok(), first.steps().toString());
      assertTrue(c.routesOn(c.name(standby)), c.routeTargets().toString());
      assertEquals(
          Reason.HEALTHY, restarted.runOnce().decision().reason(), "and the next loop is quiet");
    }
  }

  @Test
  void noPromotionWhenTheStandbyIsDownToo() throws Exception {
    LabCluster c = cluster();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    c.start();
    c.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);
    pg.kill(standby);
    pg.kill(primary);
    LoopReport r =
        c.awaitDecision(
            "the no-candidate alarm",
            FAILOVER_BOUND,
            x -> x.decision().reason() == Reason.NO_CANDIDATE);
    assertTrue(r.decision().message().contains("no standby is reachable"), r.decision().message());
    assertTrue(c.routesOn(c.name(primary)), "routes untouched");
    assertFalse(r.snapshot().nodes().values().stream().anyMatch(NodeObservation::isPrimary));
  }

  static String query(PgNode node, String sql) throws Exception {
    try (Connection conn = node.connect();
        Statement s = conn.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
