package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PairLayout;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Back to two nodes after every failover, on the netns lab with a node agent on each PostgreSQL
 * host: one scenario per run, inside pgfo-cli, run by {@code NetnsRejoinIT} (controller module),
 * which asserts on the facts printed as the last line.
 *
 * <ul>
 *   <li>{@code crash} (async): rows written to the primary alone while it is cut off, then its host
 *       crashes; failover; the host comes back and is rewound and streams, the rows gone. An
 *       operator's {@code failoverctl rejoin} of the new primary is refused. Then the standby's
 *       agent dies and the new primary's host crashes: the failover still happens; that host comes
 *       back without its agent: no rejoin, an AGENT_UNREACHABLE alarm.
 *   <li>{@code switchovers} (sync): {@value #ROUND_TRIPS} switchovers a → b → a … under a steady
 *       write load through the virtual IP; after each, two nodes streaming and the synchronous
 *       standby back.
 *   <li>{@code reclone} (async, no wal_log_hints nor checksums, {@code rejoin.reclone: true}): the
 *       crash of the first, rejoined by a re-clone.
 * </ul>
 */
public final class RejoinMatrix {
  static final int ROUND_TRIPS = 10;
  static final int DIVERGED_ROWS = 100;

  private RejoinMatrix() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 3) {
      System.err.println("usage: RejoinMatrix crash|switchovers|reclone OUT_DIR CONTROLLER_JAR");
      System.exit(2);
    }
    String scenario = args[0];
    Path dir = Path.of(args[1]).resolve(scenario);
    Path jar = Path.of(args[2]);
    NetnsCluster.Options async =
        NetnsCluster.Options.of(false, LabConfig.DEFAULT_PROBE, LabConfig.DEFAULT_FAILOVER);
    NetnsCluster.Options options =
        switch (scenario) {
          case "crash" -> async;
          case "switchovers" ->
              NetnsCluster.Options.of(true, LabConfig.DEFAULT_PROBE, LabConfig.DEFAULT_FAILOVER);
          case "reclone" -> async.withRewind(PairLayout.Rewind.NO_HINTS, true);
          default -> throw new IllegalArgumentException("unknown scenario " + scenario);
        };
    ObjectNode facts = Lab.JSON.createObjectNode();
    facts.put("scenario", scenario);
    try (NetnsCluster lab = NetnsCluster.start(dir, jar, options)) {
      lab.startController();
      switch (scenario) {
        case "crash" -> crash(lab, facts);
        case "switchovers" -> switchovers(lab, facts);
        default -> facts.set("rejoin", drillFacts(RejoinDrill.run(lab, lab.pair().nodeA())));
      }
    }
    System.out.println(Lab.JSON.writeValueAsString(facts));
    System.exit(0);
  }

  private static void crash(NetnsCluster lab, ObjectNode facts) throws Exception {
    PostgresPair pair = lab.pair();
    PgNode a = pair.nodeA();
    PgNode b = pair.nodeB();
    execute(a, "CREATE TABLE diverged (id int PRIMARY KEY, note text)");
    execute(a, "INSERT INTO diverged SELECT g, 'everywhere' FROM generate_series(1, 10) g");
    lab.awaitStreaming(a, b, RejoinDrill.LIMIT);
    awaitReplayed(a, b);
    // Cut off, the primary still commits what its own host writes (async: nobody waits for the
    // standby), and nothing of it reaches the standby or any client through the virtual IP.
    NetnsLab.cut("a");
    String onA =
        pair.psqlOnHost(
            a,
            "\\set QUIET on\n\\pset tuples_only on\n\\pset format unaligned\n"
                + "INSERT INTO diverged SELECT g, 'only on pg-a' FROM generate_series(11, "
                + (10 + DIVERGED_ROWS)
                + ") g;\nSELECT count(*) FROM diverged;\n");
    List<String> lines = onA.strip().lines().toList();
    facts.put("diverged_rows_on_a_before", Long.parseLong(lines.get(lines.size() - 1).strip()));
    RejoinDrill drill;
    try {
      // The link comes back with the host, after the failover: the processes' SIGKILL leaves the
      // kernel up, which would still deliver the WAL left in the dead sender's socket to a standby
      // not yet promoted (a real host crash takes the kernel with it).
      drill = RejoinDrill.run(lab, a, () -> NetnsLab.heal("a"));
    } finally {
      NetnsLab.heal("a");
    }
    facts.set("rejoin", drillFacts(drill));
    facts.put("a_in_recovery", query(a, "SELECT pg_is_in_recovery()"));
    facts.put("rows_on_a_after", count(a, "SELECT count(*) FROM diverged"));
    facts.put("rows_on_b", count(b, "SELECT count(*) FROM diverged"));

    // An operator asks to rejoin the new primary: the newest timeline, the routes' target.
    Command refused = failoverctl(lab, "rejoin", "pg-b", "-c", lab.config().toString());
    facts.put("rejoin_primary_exit", refused.exitCode());
    facts.put("rejoin_primary_output", refused.output());

    // The standby's agent dies; then the primary's host crashes. The failover needs no agent.
    lab.agent(a).kill();
    Instant fault = Instant.now();
    lab.crashHost(b);
    RejoinDrill.awaitFailover(lab, fault, a);
    facts.put("failover_without_agents", true);
    // The old primary's host comes back, PostgreSQL only: its agent stays down.
    Instant back = Instant.now();
    pair.start(b);
    JsonNode alarm =
        lab.awaitEvent(
            "an AGENT_UNREACHABLE alarm",
            RejoinDrill.LIMIT,
            back,
            e ->
                "alarm".equals(e.path("event").asText())
                    && "AGENT_UNREACHABLE".equals(e.path("kind").asText()));
    facts.put("agent_unreachable_alarm", alarm.path("message").asText(alarm.toString()));
    // What an operator sees next: status from a later loop, the old primary still alarmed.
    JsonNode status = FaultMatrix.status(lab);
    facts.put("status_reason", status.path("document").path("reason").asText());
    facts.put(
        "rejoins_started_without_agent",
        lab.eventsAfter(fault, e -> "rejoin_started".equals(e.path("event").asText())).size());
    facts.put("b_role", FaultMatrix.role(b));
    ObjectNode routes = facts.putObject("routes");
    FaultMatrix.routesOn(lab).forEach(routes::put);
    facts.put("vip_answered_by", answeredByVip());
  }

  private static void switchovers(NetnsCluster lab, ObjectNode facts) throws Exception {
    PostgresPair pair = lab.pair();
    execute(pair.nodeA(), "CREATE TABLE bench_writes (id bigint PRIMARY KEY, node text NOT NULL)");
    FailoverBench.Writer writer = new FailoverBench.Writer(ClientSettings.DEFAULT);
    Thread t = new Thread(writer, "writer");
    t.start();
    ArrayNode trips = facts.putArray("trips");
    PgNode primary = pair.nodeA();
    try {
      Waits.until(
          "20 acknowledged writes through the virtual IP",
          Duration.ofSeconds(30),
          () -> writer.acks.size() >= 20);
      for (int i = 1; i <= ROUND_TRIPS; i++) {
        PgNode to = pair.other(primary);
        String target = NetnsCluster.configName(to);
        Instant at = Instant.now();
        long acksBefore = writer.acks.size();
        Command c = failoverctl(lab, "switchover", "--to", target, "-c", lab.config().toString());
        ObjectNode trip = trips.addObject();
        trip.put("to", target);
        trip.put("exit", c.exitCode());
        if (c.exitCode() != 0) {
          trip.put("output", c.output());
          break;
        }
        FaultMatrix.awaitRoutesOn(lab, target, RejoinDrill.LIMIT);
        Instant streaming = lab.awaitStreaming(to, primary, RejoinDrill.LIMIT);
        trip.put("streaming_ms", Duration.between(at, streaming).toMillis());
        String standby = NetnsCluster.configName(primary);
        Waits.until(
            target + " to wait for " + standby + " again",
            RejoinDrill.LIMIT,
            () -> NetnsCluster.synchronousStandby(to).filter(standby::equals).isPresent());
        trip.put("sync_restored_ms", Duration.between(at, Instant.now()).toMillis());
        trip.put("synchronous_standby_names", query(to, "SHOW synchronous_standby_names"));
        Waits.until(
            "writes through the virtual IP to go on after the switchover",
            RejoinDrill.LIMIT,
            () -> writer.acks.size() >= acksBefore + 20);
        primary = to;
      }
    } finally {
      writer.stop.set(true);
      t.join(10_000);
    }
    Set<Long> stored;
    try (Connection c = primary.connect()) {
      stored = FailoverBench.storedIds(c);
    }
    facts.put("acked_writes", writer.acks.size());
    facts.put(
        "lost_acked_writes", writer.acks.stream().filter(x -> !stored.contains(x.id())).count());
  }

  static ObjectNode drillFacts(RejoinDrill d) {
    ObjectNode o = Lab.JSON.createObjectNode();
    o.put("rejoined_ms", d.rejoinedMs());
    o.put("streaming_after_host_back_ms", d.streamingAfterHostBackMs());
    o.put("method", d.finished().path("method").asText());
    o.set("finished", d.finished());
    return o;
  }

  /** Waits until {@code standby} replayed everything {@code primary} wrote so far. */
  private static void awaitReplayed(PgNode primary, PgNode standby) throws SQLException {
    String lsn = query(primary, "SELECT pg_current_wal_lsn()");
    Waits.until(
        standby + " to replay " + lsn,
        RejoinDrill.LIMIT,
        () ->
            "t".equals(query(standby, "SELECT pg_last_wal_replay_lsn() >= '" + lsn + "'::pg_lsn")));
  }

  /** Which servers answered through the virtual IP in five tries. */
  private static ArrayNode answeredByVip() {
    ArrayNode out = Lab.JSON.createArrayNode();
    java.util.TreeSet<String> seen = new java.util.TreeSet<>();
    for (int i = 0; i < 5; i++) {
      try (Connection c = NetnsCluster.connectVip();
          Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT current_setting('cluster_name')")) {
        rs.next();
        seen.add("pg-" + rs.getString(1));
      } catch (SQLException e) {
        seen.add("error");
      }
    }
    seen.forEach(out::add);
    return out;
  }

  record Command(int exitCode, String output) {}

  /**
   * {@code failoverctl ARGS} on the controller's host, as an operator runs it there. Tried again
   * (at most twice) when the daemon's API did not answer its health check in time: on this shared,
   * loaded machine a controller busy with a rejoin can miss the client's 2 s, and the client then
   * changes nothing.
   */
  static Command failoverctl(NetnsCluster lab, String... args)
      throws IOException, InterruptedException {
    Command c = failoverctlOnce(lab, args);
    for (int retry = 0;
        retry < 2 && c.exitCode() == 1 && c.output().contains("did not answer /health");
        retry++) {
      c = failoverctlOnce(lab, args);
    }
    return c;
  }

  private static Command failoverctlOnce(NetnsCluster lab, String... args)
      throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                LabController.failoverctl(NetnsLab.CONTROLLER, lab.controllerJar(), args))
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return new Command(-1, "timed out: " + out);
    }
    return new Command(p.exitValue(), out.strip());
  }

  static void execute(PgNode node, String sql) throws SQLException {
    try (Connection c = node.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  static String query(PgNode node, String sql) throws SQLException {
    try (Connection c = node.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private static long count(PgNode node, String sql) throws SQLException {
    return Long.parseLong(query(node, sql));
  }
}
