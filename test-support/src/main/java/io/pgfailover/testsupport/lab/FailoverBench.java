package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.ToLongFunction;
import java.util.stream.StreamSupport;

/**
 * {@code bench/failover.sh}: N failover drills on the netns lab, each on a fresh pair. A client on
 * pgfo-cli inserts numbered rows through the virtual IP; the primary is SIGKILLed ({@code kill}),
 * cut off ({@code cut}: its link down) or frozen ({@code freeze}: SIGSTOP), or its whole AZ is lost
 * ({@code az}: with a controller pair, the primary's host and the leading controller's host cut off
 * together, so the follower in the other AZ must take the lease and fail over); the controller
 * fails over; the fault is then healed (links up, SIGCONT) and the client writes on for {@value
 * #AFTER_HEAL_MS} ms more, watching for an acknowledgement from the old primary after one from the
 * new (two primaries reachable through the virtual IP: split brain). Prints a table, writes an SVG
 * of the drills' timelines, and with {@code --json} a last line with the summary.
 */
public final class FailoverBench {
  static final long AFTER_HEAL_MS = 2_000;

  enum Fault {
    KILL,
    CUT,
    FREEZE,
    AZ
  }

  /**
   * The controller settings a drill runs with: the shipped defaults, or {@code fast}, to show what
   * one failed probe with a standby host's agreement buys (it fails over falsely on a lossy link:
   * {@link LabConfig#FAST_PROBE}).
   */
  enum Settings {
    DEFAULT(
        LabConfig.DEFAULT_PROBE,
        LabConfig.DEFAULT_FAILOVER,
        LabConfig.LAB_LEASE_TIMING,
        ClientSettings.DEFAULT,
        "probe 1s/1s/3, witness 5s"),
    FAST(
        LabConfig.FAST_PROBE,
        LabConfig.FAST_FAILOVER,
        LabConfig.FAST_LEASE_TIMING,
        ClientSettings.FAST,
        "probe 500ms/500ms/2, witness 1s");

    final String probe;
    final String failover;

    /** The controller pair's lease timing ({@code az} only). */
    final String lease;

    /** The client's settings: the README's client guidance for this profile. */
    final ClientSettings client;

    final String summary;

    Settings(String probe, String failover, String lease, ClientSettings client, String summary) {
      this.probe = probe;
      this.failover = failover;
      this.lease = lease;
      this.client = client;
      this.summary = summary;
    }
  }

  /** One acknowledged insert and the server ({@code cluster_name}) that acknowledged it. */
  record Ack(long id, Instant at, String node) {}

  /**
   * One drill's figures; times are ms since the fault, -1 when it did not happen. {@code client}:
   * what the writing client saw. {@code takeoverMs}: the surviving controller's {@code
   * lease_acquired} (az only); {@code oldLeaderActions}: actions the cut-off leader started after
   * the fault, which must stay 0 (az only, else 0). {@code rejoinedMs}: until the old primary,
   * rejoined by the controller through its agent, streamed from the new one (two nodes again).
   */
  record Drill(
      int n,
      Instant faultAt,
      boolean failedOver,
      long firstSeenMs,
      long detectedMs,
      long promotedMs,
      long routesSwitchedMs,
      long routerSwitchedMs,
      ClientOutcome client,
      long takeoverMs,
      long oldLeaderActions,
      long rejoinedMs) {}

  public static void main(String[] args) throws Exception {
    int drills = 5;
    Fault fault = Fault.KILL;
    boolean sync = true;
    boolean json = false;
    Settings settings = Settings.DEFAULT;
    Path out = Path.of("bench/out");
    Path jar = Path.of("controller/target/failoverctl.jar");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--drills" -> drills = Integer.parseInt(args[++i]);
        case "--fault" -> fault = Fault.valueOf(args[++i].toUpperCase(Locale.ROOT));
        case "--mode" ->
            sync =
                switch (args[++i]) {
                  case "sync" -> true;
                  case "async" -> false;
                  default ->
                      throw new IllegalArgumentException("--mode is sync or async, got " + args[i]);
                };
        case "--json" -> json = true;
        case "--settings" -> settings = Settings.valueOf(args[++i].toUpperCase(Locale.ROOT));
        case "--out" -> out = Path.of(args[++i]);
        case "--jar" -> jar = Path.of(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; usage: --drills N --fault kill|cut|freeze|az --mode sync|async [--settings"
                    + " default|fast] [--json] [--out DIR] [--jar JAR]");
      }
    }
    String mode = sync ? "sync" : "async";
    String label =
        fault.name().toLowerCase(Locale.ROOT)
            + "-"
            + mode
            + (settings == Settings.DEFAULT ? "" : "-" + settings.name().toLowerCase(Locale.ROOT));
    Files.createDirectories(out);
    List<Drill> results = new ArrayList<>();
    System.out.printf(
        "== %d drills, fault %s, %s replication, %s settings (%s)%n",
        drills,
        fault.name().toLowerCase(Locale.ROOT),
        mode,
        settings.name().toLowerCase(Locale.ROOT),
        settings.summary + "; client " + clientSummary(settings.client));
    boolean az = fault == Fault.AZ;
    if (az) {
      System.out.println(
          "   controller pair: ctl-a leads on pgfo-ctl (AZ A, with the primary pgfo-a), ctl-b"
              + " follows on pgfo-ctl2 (AZ B); the fault cuts pgfo-a and pgfo-ctl off together;"
              + " lease "
              + settings.lease);
    }
    System.out.printf(
        "%5s %9s %9s %9s %9s %9s %9s %9s %7s %5s %6s%n",
        "drill",
        az ? "takeover" : "",
        "detect",
        "promote",
        "routes",
        "router",
        "downtime",
        "rejoined",
        "acked",
        "lost",
        "split");
    for (int n = 1; n <= drills; n++) {
      Drill d = drill(n, fault, sync, settings, settings.client, out.resolve(label + "-" + n), jar);
      results.add(d);
      System.out.printf(
          "%5d %9s %9d %9d %9d %9d %9d %9d %7d %5d %6s%n",
          n,
          az ? Long.toString(d.takeoverMs()) : "",
          d.detectedMs(),
          d.promotedMs(),
          d.routesSwitchedMs(),
          d.routerSwitchedMs(),
          d.client().writeDowntimeMs(),
          d.rejoinedMs(),
          d.client().acked(),
          d.client().lost(),
          d.client().splitBrain()
              + (d.oldLeaderActions() > 0 ? " OLD LEADER ACTED " + d.oldLeaderActions() : ""));
    }
    Path svg = out.resolve(label + ".svg");
    Files.writeString(
        svg, TimelineChart.render(label + ": " + drills + " drills (ms since the fault)", results));

    ObjectNode s = Lab.JSON.createObjectNode();
    s.put("fault", fault.name().toLowerCase(Locale.ROOT));
    s.put("mode", mode);
    s.put("settings", settings.name().toLowerCase(Locale.ROOT));
    s.put("drills", drills);
    s.put("failovers_completed", results.stream().filter(Drill::failedOver).count());
    putPercentiles(s, "write_downtime_ms", results, d -> d.client().writeDowntimeMs());
    putPercentiles(s, "detected_ms", results, Drill::detectedMs);
    putPercentiles(s, "promoted_ms", results, Drill::promotedMs);
    putPercentiles(s, "routes_switched_ms", results, Drill::routesSwitchedMs);
    putPercentiles(s, "rejoined_ms", results, Drill::rejoinedMs);
    s.put("acked_writes", results.stream().mapToLong(d -> d.client().acked()).sum());
    s.put("lost_acked_writes", results.stream().mapToLong(d -> d.client().lost()).sum());
    s.put("split_brain_seen", results.stream().anyMatch(d -> d.client().splitBrain()));
    if (az) {
      putPercentiles(s, "takeover_ms", results, Drill::takeoverMs);
      s.put("old_leader_actions", results.stream().mapToLong(Drill::oldLeaderActions).sum());
    }
    s.put("chart", svg.toString());
    System.out.printf(
        "== %s: write downtime p50 %d / p95 %d / max %d ms; detection p50 %d, promotion p50 %d,"
            + " route switch p50 %d ms (since the fault); old primary rejoined and streaming p50"
            + " %d ms after the fault; %d acknowledged writes lost; split brain seen: %s; chart"
            + " %s%n",
        label,
        s.path("write_downtime_ms_p50").asLong(),
        s.path("write_downtime_ms_p95").asLong(),
        s.path("write_downtime_ms_max").asLong(),
        s.path("detected_ms_p50").asLong(),
        s.path("promoted_ms_p50").asLong(),
        s.path("routes_switched_ms_p50").asLong(),
        s.path("rejoined_ms_p50").asLong(),
        s.path("lost_acked_writes").asLong(),
        s.path("split_brain_seen").asBoolean(),
        svg);
    if (az) {
      System.out.printf(
          "== %s: lease takeover by the follower p50 %d / max %d ms after the fault; actions"
              + " started by the cut-off leader: %d%n",
          label,
          s.path("takeover_ms_p50").asLong(),
          s.path("takeover_ms_max").asLong(),
          s.path("old_leader_actions").asLong());
    }
    if (json) {
      System.out.println(Lab.JSON.writeValueAsString(s));
    }
    boolean ok =
        results.stream().allMatch(Drill::failedOver)
            && !s.path("split_brain_seen").asBoolean()
            && (!sync || s.path("lost_acked_writes").asLong() == 0)
            && results.stream().allMatch(d -> d.oldLeaderActions() == 0);
    System.exit(ok ? 0 : 1);
  }

  /** The client's settings as the README's guidance gives them. */
  static String clientSummary(ClientSettings client) {
    return client.pgjdbcUrlParameters()
        + client
            .networkTimeout()
            .map(t -> " and setNetworkTimeout " + t.toMillis() + " ms")
            .orElse("");
  }

  /** One drill; {@code client}: the writing client's settings (the profile's, or the peers'). */
  static Drill drill(
      int n,
      Fault fault,
      boolean sync,
      Settings settings,
      ClientSettings client,
      Path dir,
      Path jar)
      throws Exception {
    boolean az = fault == Fault.AZ;
    try (NetnsCluster lab =
        az
            ? NetnsCluster.startPair(
                dir, jar, sync, settings.probe, settings.failover, settings.lease)
            : NetnsCluster.start(dir, jar, sync, settings.probe, settings.failover)) {
      PostgresPair pair = lab.pair();
      PgNode oldPrimary = pair.primary();
      try (Connection c = oldPrimary.connect();
          Statement st = c.createStatement()) {
        st.execute("CREATE TABLE bench_writes (id bigint PRIMARY KEY, node text NOT NULL)");
      }
      LabController leader = lab.controller();
      LabController survivor = leader;
      if (az) {
        lab.startPairWithLeaderInAzA();
        survivor = lab.controllers().get(1);
        checkLeaderInPrimaryAz(leader, survivor, oldPrimary);
      } else {
        lab.startController();
      }
      Writer writer = new Writer(client);
      Thread t = new Thread(writer, "writer");
      t.start();
      try {
        Waits.until(
            "20 acknowledged writes through the virtual IP",
            Duration.ofSeconds(30),
            () -> writer.acks.size() >= 20);
        printRoutes(n, "before the fault", lab);
        // At a random point of the controller's 1 s probe cycle: a drill reaches this line a
        // fairly fixed time after its controller started, which put every fault at about the same
        // phase of it and hid the spread the phase makes.
        java.util.concurrent.locks.LockSupport.parkNanos(
            java.util.concurrent.ThreadLocalRandom.current().nextLong(1_000_000_000L));
        Instant faultAt = Instant.now();
        switch (fault) {
          case KILL -> pair.kill(oldPrimary);
          case CUT -> NetnsLab.cut(oldPrimary.name());
          case FREEZE -> pair.freeze(oldPrimary);
          case AZ -> NetnsLab.cutAz(oldPrimary.name(), "ctl");
        }
        Optional<JsonNode> timeline = Optional.empty();
        try {
          timeline =
              Optional.of(
                  survivor.awaitEvent(
                      "a failover timeline",
                      Duration.ofSeconds(60),
                      faultAt,
                      NetnsCluster::isTimeline));
          Waits.until(
              "writes through the virtual IP to resume",
              Duration.ofSeconds(30),
              () -> writer.acksAfter(faultAt, "b") >= 20);
        } catch (IllegalStateException e) {
          System.err.println("drill " + n + ": " + e.getMessage());
        }
        switch (fault) {
          case KILL -> {}
          case CUT -> NetnsLab.heal(oldPrimary.name());
          case FREEZE -> pair.thaw(oldPrimary);
          case AZ -> NetnsLab.healAz(oldPrimary.name(), "ctl");
        }
        printRoutes(n, "after the failover", lab);
        Thread.sleep(
            AFTER_HEAL_MS); // the client keeps writing: does the healed old primary ever answer?
        writer.stop.set(true);
        t.join(10_000);
        long takeover = -1;
        long oldLeaderActions = 0;
        if (az) {
          takeover =
              survivor
                  .eventsAfter(faultAt, e -> "lease_acquired".equals(e.path("event").asText()))
                  .stream()
                  .findFirst()
                  .map(
                      e ->
                          Duration.between(faultAt, Instant.parse(e.path("ts").asText()))
                              .toMillis())
                  .orElse(-1L);
          oldLeaderActions =
              leader
                  .eventsAfter(faultAt, e -> "action_started".equals(e.path("event").asText()))
                  .size();
        }
        long rejoined = timeline.isPresent() ? awaitRejoined(lab, oldPrimary, faultAt) : -1;
        return result(n, lab, faultAt, timeline, writer, takeover, oldLeaderActions, rejoined);
      } finally {
        writer.stop.set(true);
        t.join(10_000);
      }
    }
  }

  /**
   * Ms from the fault until {@code oldPrimary} streams from the new primary: the controller rejoins
   * it through its agent (a crashed server whose agent answers, or an old primary back on its old
   * timeline); -1 when that does not happen within {@link RejoinDrill#LIMIT}.
   */
  private static long awaitRejoined(NetnsCluster lab, PgNode oldPrimary, Instant faultAt) {
    try {
      Instant at = lab.awaitStreaming(lab.pair().other(oldPrimary), oldPrimary, RejoinDrill.LIMIT);
      return Duration.between(faultAt, at).toMillis();
    } catch (IllegalStateException e) {
      System.err.println("the old primary was not rejoined: " + e.getMessage());
      return -1;
    }
  }

  /** Each route table's virtual-IP target, as the VPC router follows it. */
  private static void printRoutes(int n, String when, NetnsCluster lab) {
    System.out.printf("drill %d: route tables %s: %s%n", n, when, FaultMatrix.routesOn(lab));
  }

  /**
   * The AZ-lost drill needs the leader in the primary's AZ: ctl-a (pgfo-ctl) leads and pg-a is the
   * primary.
   */
  private static void checkLeaderInPrimaryAz(
      LabController leader, LabController follower, PgNode primary) throws Exception {
    JsonNode a = leader.status();
    JsonNode b = follower.status();
    boolean primaryInAzA =
        "a".equals(primary.name())
            && StreamSupport.stream(a.path("nodes").spliterator(), false)
                .anyMatch(
                    x ->
                        "pg-a".equals(x.path("name").asText())
                            && "PRIMARY".equals(x.path("role").asText()));
    if (!"LEADER".equals(a.path("controller").path("role").asText())
        || !a.path("controller")
            .path("id")
            .asText()
            .equals(b.path("controller").path("leader").asText())
        || !primaryInAzA) {
      throw new IllegalStateException(
          "the AZ-lost drill needs "
              + leader.name()
              + " leading and pg-a primary in AZ A;"
              + " status: "
              + a.path("controller")
              + " "
              + a.path("nodes")
              + "; follower: "
              + b.path("controller"));
    }
  }

  private static Drill result(
      int n,
      NetnsCluster lab,
      Instant faultAt,
      Optional<JsonNode> timeline,
      Writer writer,
      long takeoverMs,
      long oldLeaderActions,
      long rejoinedMs)
      throws SQLException {
    boolean failedOver = timeline.map(j -> j.path("completed").asBoolean()).orElse(false);
    Optional<Set<Long>> stored = Optional.empty();
    if (failedOver) {
      try (Connection c = lab.pair().nodeB().connect()) {
        stored = Optional.of(storedIds(c));
      }
    }
    ClientOutcome client = ClientOutcome.of(writer.acks, faultAt, stored);
    long firstSeen = -1;
    long detected = -1;
    long promoted = -1;
    long routes = -1;
    if (timeline.isPresent()) {
      Instant start = Instant.parse(timeline.get().path("start").asText());
      JsonNode phases = timeline.get().path("phases_ms");
      firstSeen = since(faultAt, start, phases.path("failure_first_seen"));
      detected = since(faultAt, start, phases.path("confirmed"));
      promoted = since(faultAt, start, phases.path("promoted"));
      routes = since(faultAt, start, phases.path("routes_switched"));
    }
    long router =
        lab.reflector().switches().stream()
            .filter(sw -> sw.at().isAfter(faultAt))
            .findFirst()
            .map(sw -> Duration.between(faultAt, sw.at()).toMillis())
            .orElse(-1L);
    return new Drill(
        n,
        faultAt,
        failedOver,
        firstSeen,
        detected,
        promoted,
        routes,
        router,
        client,
        takeoverMs,
        oldLeaderActions,
        rejoinedMs);
  }

  /** The ids of {@code bench_writes} on {@code c}'s server: what the new primary kept. */
  static Set<Long> storedIds(Connection c) throws SQLException {
    Set<Long> stored = new HashSet<>();
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM bench_writes")) {
      while (rs.next()) {
        stored.add(rs.getLong(1));
      }
    }
    return stored;
  }

  /**
   * What the client saw in one drill, ms since the fault: the outage (the longest pause between
   * consecutive acknowledgements that ends after the fault; -1 when none did), the acknowledged
   * writes the new primary does not have ({@code stored}: its ids; -1 when there is no new
   * primary), and split brain as the application sees it (after the new primary, node "b",
   * acknowledged a write, the old one, node "a", did too).
   */
  record ClientOutcome(long gapStartMs, long gapEndMs, long acked, long lost, boolean splitBrain) {
    long writeDowntimeMs() {
      return gapEndMs < 0 ? -1 : gapEndMs - gapStartMs;
    }

    static ClientOutcome of(Collection<Ack> recorded, Instant faultAt, Optional<Set<Long>> stored) {
      List<Ack> acks = recorded.stream().sorted(Comparator.comparing(Ack::at)).toList();
      long lost =
          stored.map(s -> acks.stream().filter(a -> !s.contains(a.id())).count()).orElse(-1L);
      Optional<Instant> firstNew =
          acks.stream().filter(a -> a.node().equals("b")).map(Ack::at).findFirst();
      boolean splitBrain =
          firstNew.isPresent()
              && acks.stream()
                  .anyMatch(a -> a.node().equals("a") && a.at().isAfter(firstNew.get()));
      long gapStart = -1;
      long gapEnd = -1;
      for (int i = 1; i < acks.size(); i++) {
        Instant end = acks.get(i).at();
        long gap = Duration.between(acks.get(i - 1).at(), end).toMillis();
        if (end.isAfter(faultAt) && gap > gapEnd - gapStart) {
          gapStart = Duration.between(faultAt, acks.get(i - 1).at()).toMillis();
          gapEnd = Duration.between(faultAt, end).toMillis();
        }
      }
      return new ClientOutcome(gapStart, gapEnd, acks.size(), lost, splitBrain);
    }
  }

  private static long since(Instant faultAt, Instant start, JsonNode phaseMs) {
    return phaseMs.isMissingNode()
        ? -1
        : Duration.between(faultAt, start.plusMillis(phaseMs.asLong())).toMillis();
  }

  static void putPercentiles(
      ObjectNode s, String name, List<Drill> drills, ToLongFunction<Drill> f) {
    long[] v = drills.stream().mapToLong(f).filter(x -> x >= 0).sorted().toArray();
    s.put(name + "_p50", percentile(v, 50));
    s.put(name + "_p95", percentile(v, 95));
    s.put(name + "_max", v.length == 0 ? -1 : v[v.length - 1]);
  }

  /** Nearest-rank percentile; -1 for no values. */
  static long percentile(long[] sorted, int p) {
    if (sorted.length == 0) {
      return -1;
    }
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, rank - 1)];
  }

  /**
   * Inserts numbered rows through the virtual IP (or however a peer's clients reach its primary),
   * recording each acknowledged id and which server acknowledged it.
   */
  static final class Writer extends NumberedWriter {
    /** How the client opens a connection to the primary. */
    @FunctionalInterface
    interface Connector {
      Connection open() throws SQLException;
    }

    final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private final Connector connector;
    private final String nodeSql;

    /**
     * Through the virtual IP with {@code client}'s settings, as an application following the
     * README's client guidance; each server names itself by its {@code cluster_name}.
     */
    Writer(ClientSettings client) {
      this(
          () -> client.openLabClient("jdbc:postgresql://" + NetnsLab.VIP + ":5432/postgres"),
          "current_setting('cluster_name')");
    }

    /**
     * @param connector opens the client's connection (a peer's multi-host URL, say)
     * @param nodeSql a SQL expression giving the acknowledging server's node name, "a" or "b"
     */
    Writer(Connector connector, String nodeSql) {
      this.connector = connector;
      this.nodeSql = nodeSql;
    }

    long acksAfter(Instant t, String node) {
      return acks.stream().filter(a -> a.at().isAfter(t) && a.node().equals(node)).count();
    }

    /** A new connection when the last one failed: through the virtual IP unless told otherwise. */
    @Override
    protected Connection connection(Connection current) throws SQLException {
      return current != null ? current : connector.open();
    }

    /**
     * Records which server acknowledged each row, so an answer from the old primary shows as split
     * brain.
     */
    @Override
    protected void write(Connection c, long id) throws SQLException {
      try (PreparedStatement ps =
          c.prepareStatement(
              "INSERT INTO bench_writes (id, node) VALUES (?, " + nodeSql + ") RETURNING node")) {
        ps.setLong(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          acks.add(new Ack(id, Instant.now(), rs.getString(1)));
        }
      }
    }
  }
}
