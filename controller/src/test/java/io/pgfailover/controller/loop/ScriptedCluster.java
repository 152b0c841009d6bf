package io.pgfailover.controller.loop;

import io.pgfailover.controller.config.ConfigException;
import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.port.Fencer;
import io.pgfailover.controller.port.Ports;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.controller.port.VirtualIpRoutes;
import io.pgfailover.probe.Reachability;
import io.pgfailover.probe.Role;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Two nodes (pg-a, pg-b) and one route table whose answers a test sets, for the loop's own rules
 * (its files, its admin API) where real PostgreSQL and EC2 add nothing. Mutating calls are refused:
 * these tests must not reach them.
 */
public final class ScriptedCluster implements PostgresNodes, VirtualIpRoutes, Fencer {
  public static final String ENI_A = "eni-0123456789abcdef0";
  public static final String ENI_B = "eni-0123456789abcdef1";

  /** What each node's probe answers; a node not set here is unreachable. */
  public final Map<String, NodeObservation> nodes = new ConcurrentHashMap<>();

  /** What the loops record for /metrics (and CloudWatch). */
  public final Metrics metrics = new Metrics();

  /** Where the virtual-IP route points. */
  public volatile String routeTarget = ENI_A;

  /** Route-table reads so far (the loop's cache decides how many there are). */
  public final java.util.concurrent.atomic.AtomicInteger routeReads =
      new java.util.concurrent.atomic.AtomicInteger();

  /** When set, a route read answers UNKNOWN (EC2 unreadable). */
  public volatile boolean routesUnreadable;

  /** When set, route switches succeed (and move {@link #routeTarget}); else they are refused. */
  public volatile boolean routeWritesWork;

  /** Which thread ran each mutating call, in order ("point_routes@loop"). */
  public final List<String> mutations = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** The loop's clock: fixed, moved by {@link #advance}. */
  public final MovableClock clock = new MovableClock();

  public final ControllerConfig config;

  /**
   * @param extraYaml top-level YAML added to the config, e.g. an admin block
   */
  public ScriptedCluster(Path dir, String extraYaml) throws ConfigException {
    this(dir, extraYaml, "");
  }

  /**
   * @param nodeExtra added to each node's flow mapping, e.g. an agent entry
   */
  public ScriptedCluster(Path dir, String extraYaml, String nodeExtra) throws ConfigException {
    this.config =
        ConfigLoader.parse(
            String.join(
                    "\n",
                    "cluster: c",
                    "aws: {region: us-east-1}",
                    "virtualIp: 172.31.255.10/32",
                    "routeTables: [rtb-0123456789abcdef0]",
                    "nodes:",
                    "  - {name: pg-a, instanceId: i-0123456789abcdef0, eniId: " + ENI_A + ",",
                    "     host: h, user: u" + nodeExtra.replace("NODE", "a") + "}",
                    "  - {name: pg-b, instanceId: i-0123456789abcdef1, eniId: " + ENI_B + ",",
                    "     host: h, port: 5433, user: u" + nodeExtra.replace("NODE", "b") + "}",
                    "eventLog: " + dir.resolve("events.jsonl"),
                    "")
                + extraYaml,
            "scripted.yaml");
  }

  public static NodeObservation primary(String node, long timeline) {
    return primary(node, timeline, true);
  }

  /** A primary whose write check passed ({@code writable}) or did not finish. */
  public static NodeObservation primary(String node, long timeline, boolean writable) {
    return new NodeObservation(
        node,
        true,
        Optional.empty(),
        Role.PRIMARY,
        OptionalLong.of(timeline),
        OptionalLong.of(1000),
        Optional.empty(),
        Optional.of(writable),
        false,
        "",
        java.util.List.of());
  }

  public static NodeObservation standby(String node, long timeline) {
    return new NodeObservation(
        node,
        true,
        Optional.empty(),
        Role.STANDBY,
        OptionalLong.of(timeline),
        OptionalLong.of(1000),
        Optional.empty(),
        Optional.empty(),
        false,
        "",
        java.util.List.of());
  }

  /** The loop's event history so far, oldest first. */
  public List<com.fasterxml.jackson.databind.JsonNode> events() {
    return EventLog.tail(config.eventLog().path(), 10_000);
  }

  /** A loop over these ports, with its event history where the config says. */
  public ControlLoop loop() {
    return loop(io.pgfailover.controller.port.NodeAgents.none());
  }

  /** The same, with these node agents. */
  public ControlLoop loop(io.pgfailover.controller.port.NodeAgents agents) {
    return loop(agents, Leadership.single());
  }

  /** The same, as one of a controller pair. */
  public ControlLoop loop(io.pgfailover.controller.port.NodeAgents agents, Leadership leadership) {
    return new ControlLoop(
        config,
        Ports.of(this, this, this).withAgents(agents),
        new EventLog(config.eventLog(), Clock.systemUTC(), config.cluster()),
        metrics,
        clock,
        leadership);
  }

  /** Watch probes so far (the loop's probes between loops); each answers as {@link #probe}. */
  public final java.util.concurrent.atomic.AtomicInteger watches =
      new java.util.concurrent.atomic.AtomicInteger();

  /** When the last watch probe that found its node failing returned (System.nanoTime), or 0. */
  public volatile long failedWatchNanos;

  /** Nodes whose watch sessions the loop opened ahead ({@link #openWatch}). */
  public final java.util.Set<String> openedAhead = ConcurrentHashMap.newKeySet();

  /** Watch probes of a node whose sessions the loop had not opened ahead. */
  public final java.util.concurrent.atomic.AtomicInteger watchesNotOpenedAhead =
      new java.util.concurrent.atomic.AtomicInteger();

  @Override
  public void openWatch(NodeConfig node) {
    openedAhead.add(node.name());
  }

  @Override
  public NodeObservation watch(NodeConfig node) {
    watches.incrementAndGet();
    if (!openedAhead.contains(node.name())) {
      watchesNotOpenedAhead.incrementAndGet();
    }
    NodeObservation o = answer(node, sessions);
    if (!o.answered()) {
      failedWatchNanos = System.nanoTime();
    }
    return o;
  }

  @Override
  public NodeObservation probe(NodeConfig node) {
    return answer(node, fullProbes);
  }

  /**
   * A node's answer to its full probes, and on its watch sessions, where a test scripts one (called
   * on the probing thread: it may wait out a deadline as a real probe would); else {@link #nodes}.
   */
  public final Map<String, java.util.function.Supplier<NodeObservation>> fullProbes =
      new ConcurrentHashMap<>();

  public final Map<String, java.util.function.Supplier<NodeObservation>> sessions =
      new ConcurrentHashMap<>();

  /** When (System.nanoTime) a test says each node's server last answered a full probe. */
  public final Map<String, Long> heard = new ConcurrentHashMap<>();

  @Override
  public java.util.OptionalLong lastHeard(NodeConfig node) {
    Long at = heard.get(node.name());
    return at == null ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(at);
  }

  private NodeObservation answer(
      NodeConfig node, Map<String, java.util.function.Supplier<NodeObservation>> scripted) {
    java.util.function.Supplier<NodeObservation> s = scripted.get(node.name());
    return s != null
        ? s.get()
        : nodes.getOrDefault(
            node.name(), NodeObservation.unreachable(node.name(), Reachability.REFUSED));
  }

  @Override
  public List<VirtualIpRoute> read() {
    routeReads.incrementAndGet();
    return routesUnreadable
        ? List.of(VirtualIpRoute.of("rtb-0123456789abcdef0", VirtualIpRoute.Status.UNKNOWN))
        : List.of(VirtualIpRoute.pointingAt("rtb-0123456789abcdef0", routeTarget));
  }

  @Override
  public StepResult promote(NodeConfig node, Duration timeout) {
    return refused("promote");
  }

  @Override
  public StepResult stopWrites(NodeConfig node) {
    return refused("stop_writes");
  }

  @Override
  public StepResult allowWrites(NodeConfig node) {
    return refused("allow_writes");
  }

  @Override
  public StepResult setSynchronousStandbys(NodeConfig node, String names) {
    return refused("set_synchronous_standbys");
  }

  @Override
  public StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout) {
    return refused("await_catch_up");
  }

  @Override
  public StepResult pointAt(String targetId, List<String> routeTables) {
    mutations.add("point_routes@" + Thread.currentThread().getName());
    if (!routeWritesWork) {
      return refused("point_routes");
    }
    routeTarget = targetId;
    return StepResult.done("replaced 1", Map.of());
  }

  @Override
  public StepResult fence(String instanceId, Duration bound) {
    return refused("fence");
  }

  /** A fixed clock a test moves forward. */
  public static final class MovableClock extends Clock {
    private volatile java.time.Instant now = java.time.Instant.parse("2026-01-01T00:00:00Z");

    public void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public java.time.Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return java.time.ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }

  private static StepResult refused(String action) {
    return StepResult.failed(action + ": not scripted in this test", Map.of());
  }
}
