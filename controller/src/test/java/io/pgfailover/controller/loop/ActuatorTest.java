package io.pgfailover.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.Action;
import io.pgfailover.controller.decide.Decision;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.port.Fencer;
import io.pgfailover.controller.port.Ports;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.controller.port.VirtualIpRoutes;
import io.pgfailover.probe.Reachability;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The actuator's own rules, on scripted ports: the order of events around each action, stopping at
 * the first failure, and undoing a write stop that no promotion followed. (Real PostgreSQL and the
 * emulator run in the controller's integration tests; a step failing at exactly this point is what
 * they cannot stage.)
 */
class ActuatorTest {
  @TempDir Path dir;

  final List<String> calls = new ArrayList<>();
  boolean catchUpFails;
  Runnable duringCatchUp = () -> {};

  ControllerConfig config() throws Exception {
    return ConfigLoader.parse(
        """
        cluster: c
        aws: {region: us-east-1}
        virtualIp: 172.31.255.10/32
        routeTables: [rtb-0123456789abcdef0]
        nodes:
          - {name: a, instanceId: i-0123456789abcdef0, eniId: eni-0123456789abcdef0, host: h, user: u}
          - {name: b, instanceId: i-0123456789abcdef1, eniId: eni-0123456789abcdef1, host: h, port: 5433, user: u}
        """,
        "t.yaml");
  }

  PostgresNodes nodes =
      new PostgresNodes() {
        public NodeObservation probe(NodeConfig node) {
          calls.add("probe " + node.name());
          return NodeObservation.unreachable(node.name(), Reachability.REFUSED);
        }

        public StepResult promote(NodeConfig node, Duration timeout) {
          calls.add("promote " + node.name());
          return StepResult.done("promoted", Map.of("timeline", 2));
        }

        public StepResult stopWrites(NodeConfig node) {
          calls.add("stop_writes " + node.name());
          return StepResult.done("stopped", Map.of());
        }

        public StepResult allowWrites(NodeConfig node) {
          calls.add("allow_writes " + node.name());
          return StepResult.done("allowed", Map.of());
        }

        public StepResult setSynchronousStandbys(NodeConfig node, String names) {
          calls.add("set_synchronous_standbys " + node.name() + " " + names);
          return StepResult.done("set", Map.of());
        }

        public StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout) {
          calls.add("await_catch_up " + standby.name());
          duringCatchUp.run();
          return catchUpFails
              ? StepResult.failed("standby did not catch up", Map.of())
              : StepResult.done("caught up", Map.of());
        }
      };

  VirtualIpRoutes routes =
      new VirtualIpRoutes() {
        public List<VirtualIpRoute> read() {
          calls.add("read_routes");
          return List.of(
              VirtualIpRoute.pointingAt("rtb-0123456789abcdef0", "eni-0123456789abcdef1"));
        }

        public StepResult pointAt(String targetId, List<String> routeTables) {
          calls.add("point_routes " + targetId);
          return StepResult.done("replaced 1", Map.of("api_calls", 3));
        }
      };

  Fencer fencer =
      (id, bound) -> {
        calls.add("fence " + id);
        return StepResult.done("stopping", Map.of());
      };

  Actuator actuator(EventLog events, Metrics metrics) throws Exception {
    return new Actuator(
        config(),
        Ports.of(nodes, routes, fencer),
        events,
        metrics,
        Clock.fixed(Instant.parse("2026-01-01T00:00:05Z"), ZoneOffset.UTC),
        Leadership.single());
  }

  @Test
  void aSwitchoverThatCannotCatchUpGivesWritesBack() throws Exception {
    catchUpFails = true;
    EventLog events = new EventLog(dir.resolve("e.jsonl"), Clock.systemUTC(), "c");
    Decision d =
        new Decision(
            Reason.SWITCHOVER,
            "switchover a -> b",
            List.of(
                new Action.StopWrites("a"),
                new Action.AwaitCatchUp("b", "a"),
                new Action.Promote("b", Optional.empty(), java.time.Duration.ofSeconds(1)),
                new Action.PointRoutes(
                    "b", "eni-0123456789abcdef1", List.of("rtb-0123456789abcdef0"))));
    Actuator.Outcome outcome =
        actuator(events, new Metrics()).execute(d, Instant.parse("2026-01-01T00:00:00Z"));
    assertFalse(outcome.ok());
    assertEquals(
        List.of("stop_writes a", "await_catch_up b", "allow_writes a"),
        calls,
        "nothing promoted, so the old primary takes writes again");
    assertFalse(outcome.timeline().orElseThrow().completed());
  }

  @Test
  void eachActionIsRecordedBeforeAndAfterAndTheTimelineIsWritten() throws Exception {
    EventLog events = new EventLog(dir.resolve("e.jsonl"), Clock.systemUTC(), "c");
    Metrics metrics = new Metrics();
    Decision d =
        new Decision(
            Reason.FAILOVER,
            "promoting b",
            List.of(
                new Action.Fence("a", "i-0123456789abcdef0"),
                new Action.Promote("b", Optional.of("a"), java.time.Duration.ofSeconds(1)),
                new Action.PointRoutes(
                    "b", "eni-0123456789abcdef1", List.of("rtb-0123456789abcdef0"))));
    Actuator.Outcome outcome =
        actuator(events, metrics).execute(d, Instant.parse("2026-01-01T00:00:00Z"));
    assertTrue(outcome.ok(), outcome.steps().toString());
    assertEquals(
        List.of(
            "fence i-0123456789abcdef0",
            "probe a",
            "promote b",
            "point_routes eni-0123456789abcdef1",
            "read_routes"),
        calls);
    List<String> kinds =
        events.tail(100).stream()
            .map(e -> e.path("event").asText() + ":" + e.path("action").asText(""))
            .toList();
    assertEquals(
        List.of(
            "failover_started:",
            "action_started:fence",
            "action_finished:fence",
            "action_started:promote",
            "action_finished:promote",
            "action_started:point_routes",
            "action_finished:point_routes",
            "failover_timeline:"),
        kinds);
    JsonNode timeline = events.tail(1).get(0);
    assertEquals(5000, timeline.path("phases_ms").path("confirmed").asLong());
    assertTrue(timeline.path("phases_ms").has("verified"));
    assertEquals(1, metrics.counter("pgfailover_failovers_total", "kind=\"failover\""));
    assertEquals(3, metrics.counter("pgfailover_ec2_calls_total", ""));
  }

  @Test
  void aPromotionWhoseRouteSwitchFailsIsNotACompletedFailover() throws Exception {
    VirtualIpRoutes ec2Down =
        new VirtualIpRoutes() {
          public List<VirtualIpRoute> read() {
            throw new AssertionError("no read-back after a failed switch");
          }

          public StepResult pointAt(String targetId, List<String> routeTables) {
            calls.add("point_routes " + targetId);
            return StepResult.failed(
                "RequestLimitExceeded until the retry deadline", Map.of("api_calls", 9));
          }
        };
    Metrics metrics = new Metrics();
    Actuator a =
        new Actuator(
            config(),
            Ports.of(nodes, ec2Down, fencer),
            new EventLog(dir.resolve("e.jsonl"), Clock.systemUTC(), "c"),
            metrics,
            Clock.systemUTC(),
            Leadership.single());
    Actuator.Outcome outcome =
        a.execute(
            new Decision(
                Reason.FAILOVER,
                "x",
                List.of(
                    new Action.Promote("b", Optional.of("a"), java.time.Duration.ofSeconds(1)),
                    new Action.PointRoutes(
                        "b", "eni-0123456789abcdef1", List.of("rtb-0123456789abcdef0")))),
            Instant.now());
    assertFalse(outcome.ok());
    assertFalse(
        outcome.timeline().orElseThrow().completed(), "the next loop still has routes to repoint");
    assertTrue(outcome.timeline().orElseThrow().phasesMs().containsKey("promoted"));
    assertEquals(
        1,
        metrics.counter("pgfailover_failovers_total", "kind=\"failover\""),
        "the promotion itself happened");
    assertEquals(1, metrics.counter("pgfailover_action_failures_total", "action=\"point_routes\""));
  }

  @Test
  void aFailedPrimaryThatAnswersAgainAbortsThePromotion() throws Exception {
    recheckAborts(
        new NodeObservation(
            "a",
            true,
            Optional.empty(),
            io.pgfailover.probe.Role.PRIMARY,
            java.util.OptionalLong.of(1),
            java.util.OptionalLong.of(1),
            Optional.empty(),
            Optional.of(true),
            false,
            "",
            java.util.List.of()));
  }

  /** Its server answered, too late to read its role: alive, and maybe still a primary. */
  @Test
  void aFailedPrimaryThatAnswersSlowlyAbortsThePromotion() throws Exception {
    recheckAborts(NodeObservation.unreachable("a", Reachability.SLOW));
  }

  private void recheckAborts(NodeObservation answer) throws Exception {
    PostgresNodes back =
        new PostgresNodes() {
          public NodeObservation probe(NodeConfig node) {
            calls.add("probe " + node.name());
            return answer;
          }

          public StepResult promote(NodeConfig node, Duration timeout) {
            throw new AssertionError("must not promote");
          }

          public StepResult stopWrites(NodeConfig node) {
            throw new AssertionError();
          }

          public StepResult allowWrites(NodeConfig node) {
            throw new AssertionError();
          }

          public StepResult setSynchronousStandbys(NodeConfig node, String names) {
            calls.add("set_synchronous_standbys " + node.name() + " " + names);
            return StepResult.done("set", Map.of());
          }

          public StepResult awaitCatchUp(NodeConfig s, NodeConfig p, Duration t) {
            throw new AssertionError();
          }
        };
    Actuator a =
        new Actuator(
            config(),
            Ports.of(back, routes, fencer),
            new EventLog(dir.resolve("e.jsonl"), Clock.systemUTC(), "c"),
            new Metrics(),
            Clock.systemUTC(),
            Leadership.single());
    Actuator.Outcome outcome =
        a.execute(
            new Decision(
                Reason.FAILOVER,
                "x",
                List.of(
                    new Action.Promote("b", Optional.of("a"), java.time.Duration.ofSeconds(1)),
                    new Action.PointRoutes(
                        "b", "eni-0123456789abcdef1", List.of("rtb-0123456789abcdef0")))),
            Instant.now());
    assertFalse(outcome.ok());
    assertEquals(
        Optional.of("a"),
        outcome.primaryBack().map(NodeObservation::node),
        "the re-check's answer goes back to the loop");
    assertEquals(
        List.of("probe a"), calls, "no promotion and no route change once the old primary answers");
  }

  @Test
  void aControllerThatLostItsLeaseRunsNoActionAndSaysWhy() throws Exception {
    io.pgfailover.controller.lease.MemoryLeaseStoreAccess store =
        new io.pgfailover.controller.lease.MemoryLeaseStoreAccess();
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    EventLog events = new EventLog(dir.resolve("e.jsonl"), Clock.systemUTC(), "c");
    io.pgfailover.controller.lease.Leadership a = store.controller(nanos, events);
    io.pgfailover.controller.lease.Leadership b = store.controller(nanos, events);
    a.tick();
    b.tick();
    nanos.addAndGet(Duration.ofSeconds(10).toNanos()); // a frozen past its lease; b takes over
    b.tick();
    Actuator stale =
        new Actuator(
            config(), Ports.of(nodes, routes, fencer), events, new Metrics(), Clock.systemUTC(), a);
    Actuator.Outcome outcome =
        stale.execute(
            new Decision(
                Reason.FAILOVER,
                "x",
                List.of(
                    new Action.Promote("b", Optional.of("a"), java.time.Duration.ofSeconds(1)),
                    new Action.PointRoutes(
                        "b", "eni-0123456789abcdef1", List.of("rtb-0123456789abcdef0")))),
            Instant.now());
    assertFalse(outcome.ok());
    assertEquals(List.of(), calls, "no probe, no promotion, no route change");
    assertTrue(
        outcome.steps().get(0).toString().startsWith("promote refused: lease lost"),
        outcome.steps().toString());
    JsonNode refused =
        events.tail(10).stream()
            .filter(e -> e.path("event").asText().equals("action_refused"))
            .findFirst()
            .orElseThrow();
    assertEquals("promote", refused.path("action").asText());
  }

  @Test
  void aWriteStopIsNotUndoneByAControllerThatLostTheLeaseMeanwhile() throws Exception {
    catchUpFails = true;
    io.pgfailover.controller.lease.MemoryLeaseStoreAccess store =
        new io.pgfailover.controller.lease.MemoryLeaseStoreAccess();
    java.util.concurrent.atomic.AtomicLong nanos = new java.util.concurrent.atomic.AtomicLong();
    EventLog events = new EventLog(dir.resolve("e.jsonl"), Clock.systemUTC(), "c");
    io.pgfailover.controller.lease.Leadership a = store.controller(nanos, events);
    io.pgfailover.controller.lease.Leadership b = store.controller(nanos, events);
    a.tick();
    b.tick();
    duringCatchUp =
        () -> { // the catch-up wait outlasts a's lease, and b takes over
          b.tick(); // b sees a's renewal made before this action
          nanos.addAndGet(Duration.ofSeconds(10).toNanos());
          b.tick();
        };
    Decision d =
        new Decision(
            Reason.SWITCHOVER,
            "switchover a -> b",
            List.of(
                new Action.StopWrites("a"),
                new Action.AwaitCatchUp("b", "a"),
                new Action.Promote("b", Optional.empty(), java.time.Duration.ofSeconds(1)),
                new Action.PointRoutes(
                    "b", "eni-0123456789abcdef1", List.of("rtb-0123456789abcdef0"))));
    Actuator.Outcome outcome =
        new Actuator(
                config(),
                Ports.of(nodes, routes, fencer),
                events,
                new Metrics(),
                Clock.systemUTC(),
                a)
            .execute(d, Instant.now());
    assertFalse(outcome.ok());
    assertEquals(
        List.of("stop_writes a", "await_catch_up b"),
        calls,
        "the new leader decides about the read-only old primary");
  }
}
