package io.pgfailover.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.Decider;
import io.pgfailover.controller.decide.Decision;
import io.pgfailover.controller.decide.History;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.decide.Snapshot;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.port.Ports;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.controller.port.VirtualIpRoutes;
import io.pgfailover.probe.Reachability;
import io.pgfailover.probe.Role;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every step of every promoting plan failing in turn, on a model of the two servers and the route
 * tables: what remains writable and where the routes point right after the failed plan, and after
 * the next loop. The plans are the real {@link Decider}'s; the actuator is the real one. The rule
 * under test is the one written where the undo lives ({@link Actuator#execute}): never two writable
 * primaries, and the routes follow the newer timeline.
 */
class SplitBrainTableTest {
  @TempDir Path dir;

  enum Plan {
    /** a healthy, {@code switchover --to b}. */
    SWITCHOVER,
    /** a healthy, {@code failover --to b --force}. */
    FORCED_FAILOVER,
    /** a dead (refused), the automatic failover to b. */
    AUTOMATIC_FAILOVER
  }

  /**
   * The step that fails, and how. {@code PROMOTE_NOT_SENT}: b unreachable before pg_promote; {@code
   * PROMOTE_UNCONFIRMED}: pg_promote sent, not confirmed in time, and (worst case) b does become
   * primary. {@code ALLOW_WRITES_ON_B}: b carries a write stop from an earlier time as old primary
   * and removing it is refused (the missing privilege).
   */
  enum Failure {
    NONE,
    STOP_WRITES,
    AWAIT_CATCH_UP,
    PROMOTE_NOT_SENT,
    PROMOTE_UNCONFIRMED,
    POINT_ROUTES,
    ALLOW_WRITES_ON_B
  }

  static Stream<Arguments> table() {
    // plan, failing step, writable primaries after the plan, routes after the plan, writable
    // primaries after the next loop, routes after the next loop
    return Stream.of(
        row(Plan.SWITCHOVER, Failure.NONE, "b", "b", "b", "b"),
        row(Plan.SWITCHOVER, Failure.STOP_WRITES, "a", "a", "a", "a"),
        row(Plan.SWITCHOVER, Failure.AWAIT_CATCH_UP, "a", "a", "a", "a"),
        row(Plan.SWITCHOVER, Failure.PROMOTE_NOT_SENT, "a", "a", "a", "a"),
        row(Plan.SWITCHOVER, Failure.PROMOTE_UNCONFIRMED, "b", "a", "b", "b"),
        row(Plan.SWITCHOVER, Failure.POINT_ROUTES, "b", "a", "b", "b"),
        row(Plan.SWITCHOVER, Failure.ALLOW_WRITES_ON_B, "", "b", "", "b"),
        row(Plan.FORCED_FAILOVER, Failure.NONE, "b", "b", "b", "b"),
        row(Plan.FORCED_FAILOVER, Failure.STOP_WRITES, "a", "a", "a", "a"),
        row(Plan.FORCED_FAILOVER, Failure.PROMOTE_NOT_SENT, "a", "a", "a", "a"),
        row(Plan.FORCED_FAILOVER, Failure.PROMOTE_UNCONFIRMED, "b", "a", "b", "b"),
        row(Plan.FORCED_FAILOVER, Failure.POINT_ROUTES, "b", "a", "b", "b"),
        row(Plan.FORCED_FAILOVER, Failure.ALLOW_WRITES_ON_B, "", "b", "", "b"),
        row(Plan.AUTOMATIC_FAILOVER, Failure.NONE, "b", "b", "b", "b"),
        row(Plan.AUTOMATIC_FAILOVER, Failure.PROMOTE_NOT_SENT, "", "a", "b", "b"),
        row(Plan.AUTOMATIC_FAILOVER, Failure.PROMOTE_UNCONFIRMED, "b", "a", "b", "b"),
        row(Plan.AUTOMATIC_FAILOVER, Failure.POINT_ROUTES, "b", "a", "b", "b"),
        row(Plan.AUTOMATIC_FAILOVER, Failure.ALLOW_WRITES_ON_B, "", "b", "", "b"));
  }

  static Arguments row(
      Plan plan,
      Failure failure,
      String writable,
      String routes,
      String writable2,
      String routes2) {
    return Arguments.of(plan, failure, writable, routes, writable2, routes2);
  }

  @ParameterizedTest(name = "{0}, {1} fails: writable [{2}], routes on {3}; next loop [{4}], {5}")
  @MethodSource("table")
  void aFailedStepNeverLeavesTwoWritablePrimaries(
      Plan plan,
      Failure failure,
      String writable,
      String routes,
      String writableNext,
      String routesNext)
      throws Exception {
    ControllerConfig config = config();
    World world = new World(failure);
    if (plan == Plan.AUTOMATIC_FAILOVER) {
      world.a.down = true;
    }
    if (failure == Failure.ALLOW_WRITES_ON_B) {
      world.b.writeStop = true;
    }
    Decider decider = new Decider(config);
    Actuator actuator =
        new Actuator(
            config,
            Ports.of(world, world, (id, bound) -> StepResult.failed("fencing is off", Map.of())),
            new EventLog(dir.resolve("events.jsonl"), Clock.systemUTC(), "c"),
            new Metrics(),
            Clock.systemUTC(),
            Leadership.single());

    // The loops before: a seen healthy as primary, so the history knows it.
    History history = History.empty().next(world.snapshot(config, world.a.down ? 0 : 1));
    if (plan == Plan.AUTOMATIC_FAILOVER) {
      history = History.empty().next(new World(Failure.NONE).snapshot(config, 1));
      for (int i = 0; i < config.probe().failureThreshold(); i++) {
        history = history.next(world.snapshot(config, 10 + i));
      }
    }
    Snapshot now = world.snapshot(config, 20);
    history = history.next(now);
    Decision decision =
        switch (plan) {
          case SWITCHOVER -> decider.decide(now, history, new Request.Switchover("b"));
          case FORCED_FAILOVER ->
              decider.decide(now, history, new Request.Failover(Optional.of("b"), true));
          case AUTOMATIC_FAILOVER -> decider.decide(now, history);
        };
    assertTrue(decision.mutates(), decision.toString());
    world.armed = true;
    Actuator.Outcome outcome = actuator.execute(decision, Instant.now());
    assertEquals(failure == Failure.NONE, outcome.ok(), outcome.steps().toString());
    assertEquals(writable, world.writablePrimaries(), "writable after " + outcome.steps());
    assertEquals(routes, world.routesOn, "routes after " + outcome.steps());

    // The next loop, with nothing failing any more, sees what is left and repairs what it may.
    world.armed = false;
    Snapshot next = world.snapshot(config, 30);
    history = history.next(next);
    Decision repair = decider.decide(next, history);
    if (repair.mutates()) {
      actuator.execute(repair, Instant.now());
    }
    assertEquals(writableNext, world.writablePrimaries(), "next loop: " + repair);
    assertEquals(routesNext, world.routesOn, "next loop: " + repair);
  }

  static ControllerConfig config() throws Exception {
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

  /** One PostgreSQL server as the model sees it. */
  static final class Server {
    final String name;
    boolean primary;
    long timeline = 1;
    boolean writeStop;
    boolean down;

    Server(String name, boolean primary) {
      this.name = name;
      this.primary = primary;
    }
  }

  /** Both servers and the route tables; fails the armed step once. */
  static final class World implements PostgresNodes, VirtualIpRoutes {
    final Server a = new Server("a", true);
    final Server b = new Server("b", false);
    final Failure failure;
    boolean armed;
    String routesOn = "a";

    World(Failure failure) {
      this.failure = failure;
    }

    Server server(String name) {
      return name.equals("a") ? a : b;
    }

    boolean failing(Failure f) {
      return armed && failure == f;
    }

    String writablePrimaries() {
      Set<String> w = new TreeSet<>();
      for (Server s : List.of(a, b)) {
        if (!s.down && s.primary && !s.writeStop) {
          w.add(s.name);
        }
      }
      return String.join(",", w);
    }

    Snapshot snapshot(ControllerConfig config, long second) {
      Map<String, NodeObservation> nodes = new LinkedHashMap<>();
      for (NodeConfig n : config.nodes()) {
        nodes.put(n.name(), observe(n.name()));
      }
      return new Snapshot(Instant.parse("2026-01-01T00:00:00Z").plusSeconds(second), nodes, read());
    }

    NodeObservation observe(String name) {
      Server s = server(name);
      if (s.down) {
        return NodeObservation.unreachable(name, Reachability.REFUSED);
      }
      return new NodeObservation(
          name,
          true,
          Optional.empty(),
          s.primary ? Role.PRIMARY : Role.STANDBY,
          OptionalLong.of(s.timeline),
          OptionalLong.of(100),
          Optional.empty(),
          s.primary ? Optional.of(!s.writeStop) : Optional.empty(),
          s.writeStop,
          "",
          java.util.List.of());
    }

    @Override
    public NodeObservation probe(NodeConfig node) {
      return observe(node.name());
    }

    @Override
    public StepResult promote(NodeConfig node, Duration timeout) {
      Server s = server(node.name());
      if (failing(Failure.PROMOTE_NOT_SENT)) {
        return StepResult.failed("unreachable before pg_promote; not promoted", Map.of());
      }
      boolean was = s.primary;
      s.primary = true;
      s.timeline = was ? s.timeline : 2;
      if (failing(Failure.PROMOTE_UNCONFIRMED)) {
        return StepResult.failedMaybeChanged("not confirmed; it may still complete", Map.of());
      }
      return was
          ? StepResult.alreadyDone("already", Map.of())
          : StepResult.done("promoted", Map.of());
    }

    @Override
    public StepResult stopWrites(NodeConfig node) {
      server(node.name()).writeStop = true; // a failing stop may have half-happened
      return failing(Failure.STOP_WRITES)
          ? StepResult.failed("sessions not ended", Map.of())
          : StepResult.done("stopped", Map.of());
    }

    @Override
    public StepResult allowWrites(NodeConfig node) {
      Server s = server(node.name());
      if (s.writeStop && node.name().equals("b") && failing(Failure.ALLOW_WRITES_ON_B)) {
        return StepResult.failed("permission denied to set parameter", Map.of());
      }
      boolean was = s.writeStop;
      s.writeStop = false;
      return was ? StepResult.done("allowed", Map.of()) : StepResult.alreadyDone("none", Map.of());
    }

    @Override
    public StepResult setSynchronousStandbys(NodeConfig node, String names) {
      return StepResult.alreadyDone("async mode: never asked", Map.of());
    }

    @Override
    public StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout) {
      return failing(Failure.AWAIT_CATCH_UP)
          ? StepResult.failed("did not catch up", Map.of())
          : StepResult.done("caught up", Map.of());
    }

    @Override
    public List<VirtualIpRoute> read() {
      return List.of(
          VirtualIpRoute.pointingAt(
              "rtb-0123456789abcdef0",
              "eni-0123456789abcdef" + (routesOn.equals("a") ? "0" : "1")));
    }

    @Override
    public StepResult pointAt(String targetId, List<String> routeTables) {
      if (failing(Failure.POINT_ROUTES)) {
        return StepResult.failed("ec2 unavailable", Map.of());
      }
      routesOn = targetId.endsWith("0") ? "a" : "b";
      return StepResult.done("replaced", Map.of());
    }
  }
}
