package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * One fault-matrix scenario on the netns lab, run inside pgfo-cli by {@code NetnsFaultMatrixIT}
 * (controller module), which asserts on the facts this prints as its last line: failovers
 * (completed failover timelines), promote actions, alarm kinds, decision reasons, where every route
 * table points, each node's role, which servers answered through the virtual IP in the last
 * seconds, and for some scenarios the status document.
 *
 * <p>Scenarios: {@code path-cut}, {@code flapping-link}, {@code flapping-controller-path}, {@code
 * ec2-unavailable}, {@code standby-down}, {@code old-primary-back}, {@code controller-killed}.
 */
public final class FaultMatrix {
  /**
   * How long the flapping link loses packets: the specification, 60 s. {@code
   * PGFAILOVER_FLAP_SECONDS} (1 to 300; the test waits 420 s for the scenario) runs it longer, to
   * count rare promotions over more time.
   */
  static final Duration FLAP = flap(System.getenv("PGFAILOVER_FLAP_SECONDS"));

  static Duration flap(String seconds) {
    if (seconds == null || seconds.isBlank()) {
      return Duration.ofSeconds(60);
    }
    try {
      long s = Long.parseLong(seconds.trim());
      if (s >= 1 && s <= 300) {
        return Duration.ofSeconds(s);
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "PGFAILOVER_FLAP_SECONDS must be whole seconds from 1 to 300, got \""
            + seconds
            + "\"; unset it for the specified 60 s");
  }

  /**
   * The controller settings the flapping link runs with: the shipped defaults, the ones the test
   * holds to. {@code PGFAILOVER_FLAP_SETTINGS=fast} runs it with the drills' {@code fast} profile
   * instead, to measure what that profile risks. The other scenarios always run the defaults.
   */
  static final FailoverBench.Settings FLAP_SETTINGS =
      flapSettings(System.getenv("PGFAILOVER_FLAP_SETTINGS"));

  static FailoverBench.Settings flapSettings(String profile) {
    if (profile == null || profile.isBlank()) {
      return FailoverBench.Settings.DEFAULT;
    }
    for (FailoverBench.Settings s : FailoverBench.Settings.values()) {
      if (s.name().equalsIgnoreCase(profile.trim())) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "PGFAILOVER_FLAP_SETTINGS must be default or fast, got \""
            + profile
            + "\"; unset it for the shipped defaults");
  }

  /**
   * The flapping link's runs, all over one 60 s window: the lab's controller ({@code failoverctl
   * run}) and {@code FLAP_RUNS - 1} observer runs on the same host (pgfo-ctl), each a control loop
   * built from the same config (without the heartbeat write, see startObservers) with its own event
   * history, probes and connections, in one JVM (the controller module's {@code
   * ObserverControllers}: nine JVMs of their own starved the lab's two cores); their promotions and
   * route writes are recorded as started and then refused, so one run's mistake cannot change the
   * cluster under the others. nftables draws {@code numgen random} for every packet, so each run's
   * probes meet their own losses: ten runs through ten independently lossy paths, each able to
   * start a promotion of its own. What they share is the pair, so the standby's view (its WAL
   * receiver) is one draw for all ten. Ten serial runs would take ten minutes.
   */
  static final int FLAP_RUNS = 10;

  private FaultMatrix() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3 && args.length != 4) {
      System.err.println("usage: FaultMatrix SCENARIO OUT_DIR CONTROLLER_JAR [OBSERVER_MAIN]");
      System.exit(2);
    }
    String scenario = args[0];
    Path dir = Path.of(args[1]).resolve(scenario);
    Path jar = Path.of(args[2]);
    // The flapping link's observer runs are controller loops: the controller module's class.
    String observerMain = args.length == 4 ? args[3] : null;
    FailoverBench.Settings settings =
        scenario.startsWith("flapping-") ? FLAP_SETTINGS : FailoverBench.Settings.DEFAULT;
    ObjectNode facts = Lab.JSON.createObjectNode();
    facts.put("scenario", scenario);
    facts.put("settings", settings.name().toLowerCase(java.util.Locale.ROOT));
    try (NetnsCluster lab =
        NetnsCluster.start(
            dir,
            jar,
            // An old primary stays as it came back (the scenarios assert on it): rejoin by hand.
            NetnsCluster.Options.of(false, settings.probe, settings.failover)
                .withRejoin("manual"))) {
      lab.startController();
      Instant start = Instant.now();
      PostgresPair pair = lab.pair();
      PgNode a = pair.nodeA();
      PgNode b = pair.nodeB();
      switch (scenario) {
        case "path-cut" -> {
          // The controller's path to the primary is cut; the standby still streams from it.
          NetnsLab.blackhole(NetnsLab.CTL_SUBNET, NetnsLab.IP_A);
          try {
            Waits.until(
                "the controller to raise the broken-path alarm",
                Duration.ofSeconds(30),
                () ->
                    !lab.eventsAfter(start, e -> "alarm".equals(e.path("event").asText()))
                        .isEmpty());
            sleep(
                Duration.ofSeconds(
                    10)); // well past witnessWindow (5 s): it must still not fail over
          } finally {
            NetnsLab.unblackhole(NetnsLab.CTL_SUBNET, NetnsLab.IP_A);
          }
        }
        case "flapping-link" ->
            // Every path to the primary is lossy: the controller's, the standby's WAL stream, the
            // standby host's agent.
            runFlapping(
                lab, dir, observerMain, start, facts, () -> NetnsLab.loss(NetnsLab.IP_A, 30));
        case "flapping-controller-path" ->
            // Only the controller host's path to the primary is lossy: the standby and its host
            // reach the primary as before.
            runFlapping(
                lab,
                dir,
                observerMain,
                start,
                facts,
                () -> NetnsLab.loss(NetnsLab.IP_A, NetnsLab.CTL_SUBNET, 30));
        case "ec2-unavailable" -> {
          // The EC2 API stops answering the controller (the router drops its requests), then the
          // primary dies:
          // detection and promotion need only PostgreSQL, the route switch meets the outage. The
          // API comes back
          // 25 s after the promotion started, past the adapter's 20 s retry deadline, so a route
          // switch fails
          // and a later loop has to finish the job.
          NetnsLab.dropEc2From(NetnsLab.CTL_SUBNET);
          try {
            pair.kill(a);
            lab.awaitEvent(
                "the promotion to start",
                Duration.ofSeconds(90),
                start,
                NetnsCluster::isPromotionStarted);
            sleep(Duration.ofSeconds(25));
            facts.put("routes_when_ec2_came_back", String.join(",", routesOn(lab).values()));
          } finally {
            NetnsLab.noLoss();
          }
          awaitRoutesOn(lab, "pg-b", Duration.ofSeconds(90));
          facts.put(
              "route_switches_failed",
              lab.eventsAfter(
                      start,
                      e ->
                          "action_finished".equals(e.path("event").asText())
                              && "point_routes".equals(e.path("action").asText())
                              && !e.path("ok").asBoolean())
                  .size());
        }
        case "standby-down" -> {
          pair.stop(b);
          pair.kill(a);
          lab.awaitEvent(
              "an alarm",
              Duration.ofSeconds(30),
              start,
              e ->
                  "alarm".equals(e.path("event").asText())
                      && e.path("kind").asText().equals("NO_FAILOVER_CANDIDATE"));
          sleep(Duration.ofSeconds(5));
        }
        case "old-primary-back" -> {
          pair.kill(a);
          lab.awaitEvent("a failover", Duration.ofSeconds(60), start, NetnsCluster::isTimeline);
          awaitRoutesOn(lab, "pg-b", Duration.ofSeconds(30));
          pair.start(a); // the old primary comes back as a primary on the old timeline
          Instant back = Instant.now();
          lab.awaitEvent(
              "the controller to see the old primary",
              Duration.ofSeconds(30),
              back,
              e -> "alarm".equals(e.path("event").asText()));
          facts.set("status", status(lab));
        }
        case "controller-killed" -> {
          pair.kill(a);
          lab.awaitEvent(
              "the promotion to start",
              Duration.ofSeconds(60),
              start,
              NetnsCluster::isPromotionStarted);
          lab.killController();
          facts.put("controller_killed_at", Instant.now().toString());
          facts.put("routes_when_killed", routesOn(lab).toString());
          Instant restarted = Instant.now();
          lab.startControllerProcess();
          lab.awaitEvent(
              "a healthy loop after the restart",
              Duration.ofSeconds(60),
              restarted,
              NetnsCluster::isHealthy);
        }
        default -> throw new IllegalArgumentException("unknown scenario " + scenario);
      }
      collect(lab, start, facts);
    }
    System.out.println(Lab.JSON.writeValueAsString(facts));
    System.exit(0);
  }

  /**
   * The flapping link's runs (see {@link #FLAP_RUNS}) through {@link #FLAP} of the loss that {@code
   * lossy} installs, and what each run decided.
   */
  private static void runFlapping(
      NetnsCluster lab,
      Path dir,
      String observerMain,
      Instant start,
      ObjectNode facts,
      Runnable lossy)
      throws Exception {
    if (observerMain == null) {
      throw new IllegalArgumentException(
          "the flapping scenarios need the observer runs' main class as the fourth argument");
    }
    List<LabController> runs = new ArrayList<>(List.of(lab.controller()));
    Process observers = startObservers(lab, dir, observerMain, FLAP_RUNS - 1, runs);
    try {
      lossy.run();
      try {
        sleep(FLAP);
      } finally {
        NetnsLab.noLoss();
      }
      sleep(Duration.ofSeconds(3));
    } finally {
      observers.getOutputStream().close(); // ends the observers
      if (!observers.waitFor(30, TimeUnit.SECONDS)) {
        observers.destroyForcibly();
      }
    }
    facts.put("loss_seconds", FLAP.toSeconds());
    ArrayNode perRun = facts.putArray("runs");
    for (LabController c : runs) {
      ObjectNode run = perRun.addObject();
      run.put("controller", c.name());
      run.put("promotions_started", c.eventsAfter(start, NetnsCluster::isPromotionStarted).size());
      run.put(
          "failovers",
          c.eventsAfter(start, e -> NetnsCluster.isTimeline(e) && e.path("completed").asBoolean())
              .size());
      run.put(
          "held_by_witness",
          c.eventsAfter(
                  start,
                  e ->
                      "decision".equals(e.path("event").asText())
                          && "PRIMARY_ALIVE_PER_WITNESS".equals(e.path("reason").asText()))
              .size());
      ArrayNode reasons = run.putArray("decisions");
      new TreeSet<>(
              c.eventsAfter(start, e -> "decision".equals(e.path("event").asText())).stream()
                  .map(e -> e.path("reason").asText())
                  .toList())
          .forEach(reasons::add);
    }
  }

  private static void collect(NetnsCluster lab, Instant start, ObjectNode facts) throws Exception {
    facts.put(
        "failovers",
        lab.eventsAfter(start, e -> NetnsCluster.isTimeline(e) && e.path("completed").asBoolean())
            .size());
    facts.put(
        "promotions_started", lab.eventsAfter(start, NetnsCluster::isPromotionStarted).size());
    putDistinct(facts.putArray("alarms"), lab, start, "alarm", "kind");
    putDistinct(facts.putArray("decisions"), lab, start, "decision", "reason");
    ObjectNode routes = facts.putObject("routes");
    routesOn(lab).forEach(routes::put);
    ObjectNode roles = facts.putObject("roles");
    for (PgNode n : lab.pair().nodes()) {
      roles.put(NetnsCluster.configName(n), role(n));
    }
    // Which servers answer through the virtual IP over 3 s: never more than one, never the old
    // primary after
    // a failover. Sampled once the data path has converged: the router follows the route tables
    // every 100 ms,
    // so right after the routes moved a connection can still meet the old path.
    // Where nothing can answer (both servers down), the sampling below records that as "error".
    long converged = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (System.nanoTime() < converged) {
      try (Connection c = NetnsCluster.connectVip();
          Statement s = c.createStatement()) {
        s.execute("SELECT 1");
        break;
      } catch (java.sql.SQLException e) {
        sleep(Duration.ofMillis(200));
      }
    }
    TreeSet<String> answered = new TreeSet<>();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    while (System.nanoTime() < end) {
      try (Connection c = NetnsCluster.connectVip();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery("SELECT current_setting('cluster_name'), pg_is_in_recovery()")) {
        rs.next();
        answered.add("pg-" + rs.getString(1) + (rs.getBoolean(2) ? " (standby)" : ""));
      } catch (java.sql.SQLException e) {
        answered.add("error");
      }
      sleep(Duration.ofMillis(200));
    }
    ArrayNode vip = facts.putArray("vip_answered_by");
    answered.forEach(vip::add);
  }

  /**
   * Starts {@code count} observer runs in one JVM on pgfo-ctl ({@code observerMain}, given the
   * config files): each with the lab controller's config but its own event history, and returns a
   * view of each (for its events; it is not a process of its own) once each has decided its first
   * healthy loop. The process runs until its stdin is closed.
   */
  static Process startObservers(
      NetnsCluster lab, Path dir, String observerMain, int count, List<LabController> into)
      throws IOException {
    String yaml = Files.readString(lab.config());
    List<String> configs = new ArrayList<>();
    List<LabController> views = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      String name = "observer-" + i;
      Path events = dir.resolve(name + "-events.jsonl");
      Files.deleteIfExists(events);
      // And the newest timeline it kept: a run before this one that promoted would make pg-a look
      // stale.
      Files.deleteIfExists(events.resolveSibling(events.getFileName() + ".state"));
      Path config = dir.resolve(name + ".yaml");
      // No heartbeat writes from the observers: nine more writers would keep the replication
      // connection busier than one controller does, and so the standby's witness steadier than in
      // a run of its own. (The write check does not decide reachability: a probe that read the
      // node's state is an answer whether or not its write finished.)
      String own =
          yaml.replaceFirst("(?m)^eventLog: .*$", "eventLog: " + events)
              .replaceFirst("writeCheck: true", "writeCheck: false");
      if (!own.contains(events.toString())) {
        throw new IllegalStateException(
            "the lab controller's config has no eventLog line: " + yaml);
      }
      Files.writeString(config, own);
      configs.add(config.toString());
      views.add(
          new LabController(
              name,
              NetnsLab.CONTROLLER,
              lab.controllerJar(),
              config,
              events,
              dir.resolve("observers.log"),
              null));
    }
    ProcessBuilder pb =
        new ProcessBuilder(NetnsLab.javaOn(NetnsLab.CONTROLLER, observerMain, configs));
    pb.environment().put("AWS_ACCESS_KEY_ID", "test");
    pb.environment().put("AWS_SECRET_ACCESS_KEY", "test");
    pb.redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("observers.log").toFile()));
    Instant since = Instant.now();
    Process p = pb.start();
    into.addAll(views);
    for (LabController v : views) {
      Waits.until(
          v.name() + "'s first healthy loop",
          NetnsCluster.START_TIMEOUT,
          () -> {
            if (!p.isAlive()) {
              throw new Waits.GiveUp(
                  "the observers exited with "
                      + p.exitValue()
                      + "; see "
                      + dir.resolve("observers.log"));
            }
            return !v.eventsAfter(since, NetnsCluster::isHealthy).isEmpty();
          });
    }
    return p;
  }

  /**
   * Each route table's virtual-IP target, as the node name (or the raw target when it is no lab
   * node).
   */
  static Map<String, String> routesOn(NetnsCluster lab) {
    Map<String, String> byEni =
        Map.of(lab.vpc().primary().eniId(), "pg-a", lab.vpc().standby().eniId(), "pg-b");
    Map<String, String> out = new LinkedHashMap<>();
    lab.ec2()
        .describeRouteTables(r -> r.routeTableIds(lab.vpc().routeTableIds()))
        .routeTables()
        .forEach(
            t ->
                out.put(
                    t.routeTableId(),
                    t.routes().stream()
                        .filter(r -> lab.vpc().vipCidr().equals(r.destinationCidrBlock()))
                        .findFirst()
                        .map(
                            r ->
                                byEni.getOrDefault(
                                    r.networkInterfaceId(), String.valueOf(r.networkInterfaceId())))
                        .orElse("none")));
    return out;
  }

  static void awaitRoutesOn(NetnsCluster lab, String node, Duration limit) {
    Waits.until(
        "every route table to point at " + node,
        limit,
        () -> routesOn(lab).values().stream().allMatch(node::equals));
  }

  static String role(PgNode n) {
    if (!n.isRunning()) {
      return "down";
    }
    try (Connection c = n.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
      rs.next();
      return rs.getBoolean(1) ? "standby" : "primary";
    } catch (java.sql.SQLException e) {
      return "unreachable";
    }
  }

  /** The distinct values of {@code field} in the events named {@code event} since {@code start}. */
  private static void putDistinct(
      ArrayNode into, NetnsCluster lab, Instant start, String event, String field) {
    new TreeSet<>(
            lab.eventsAfter(start, e -> event.equals(e.path("event").asText())).stream()
                .map(e -> e.path(field).asText())
                .toList())
        .forEach(into::add);
  }

  /** {@code failoverctl status --json}, run on the controller's host like an operator would. */
  static JsonNode status(NetnsCluster lab) throws Exception {
    Process p =
        new ProcessBuilder(
                LabController.failoverctl(
                    NetnsLab.CONTROLLER,
                    lab.controllerJar(),
                    "status",
                    "--json",
                    "-c",
                    lab.config().toString()))
            .redirectErrorStream(false)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(60, TimeUnit.SECONDS);
    ObjectNode s = Lab.JSON.createObjectNode();
    s.put("exit_code", p.exitValue());
    s.set("document", Lab.JSON.readTree(out));
    return s;
  }

  private static void sleep(Duration d) throws InterruptedException {
    Thread.sleep(d.toMillis()); // the fault's specified duration, not a wait for a condition
  }
}
