package io.pgfailover.controller.agent;

import io.pgfailover.controller.config.AgentConfig;
import io.pgfailover.controller.config.AgentConfigLoader;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.controller.wiring.HttpNodeAgents;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.lab.Lab;
import io.pgfailover.testsupport.pg.DatabaseRoles;
import io.pgfailover.testsupport.pg.PgBinaries;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import io.pgfailover.testsupport.pg.ProcessLauncher;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * A node agent for one node of the test pair, run in this JVM as the systemd unit runs it: as root
 * when the tests run as root, the PostgreSQL tools as the harness's OS user ({@code pg_ctl} preset,
 * so that the agent, not the harness, starts and stops the server it takes over; the harness still
 * finds that server through postmaster.pid). The controller's side talks to it through {@link
 * HttpNodeAgents}.
 */
final class AgentFixture implements AutoCloseable {
  static final String TOKEN = "agent-test-token-0123456789";
  static final String CONTROLLER_PW = "agent-it-controller";
  static final String REPLICATION_PW = "agent-it-replication";

  final PgNode node;
  final String name;
  final Path dir;
  final AgentConfig config;
  final NodeAgents client;
  private final Consumer<RejoinPhase> beforePhase;
  Agent agent;

  /** The roles the agent logs in as, from config/roles.sql (once per pair). */
  static void roles(PostgresPair pair) {
    DatabaseRoles.apply(pair, CONTROLLER_PW, REPLICATION_PW);
  }

  AgentFixture(PgNode node, Path dir, boolean reclone) throws Exception {
    this(node, dir, reclone, phase -> {});
  }

  AgentFixture(PgNode node, Path dir, boolean reclone, Consumer<RejoinPhase> beforePhase)
      throws Exception {
    this.node = node;
    this.name = "pg-" + node.name();
    this.dir = Files.createDirectories(dir);
    this.beforePhase = beforePhase;
    Path yaml = dir.resolve("agent.yaml");
    Files.writeString(yaml, yaml(node, dir, reclone, Lab.freePort()));
    this.config = AgentConfigLoader.load(yaml);
    this.client =
        new HttpNodeAgents(
            List.of(
                new HttpNodeAgents.Target(
                    name, URI.create("http://" + config.listenText()), config.tokenFile())),
            HttpNodeAgents.Timeouts.defaults());
    start();
  }

  static String yaml(PgNode node, Path dir, boolean reclone, int port) throws Exception {
    Lab.secret(dir.resolve("token"), TOKEN);
    Lab.secret(dir.resolve("local-pw"), CONTROLLER_PW);
    Lab.secret(dir.resolve("replication-pw"), REPLICATION_PW);
    String osUser = ProcessLauncher.detect().osUser().orElse(System.getProperty("user.name"));
    Path clusterDir = node.dataDir().getParent();
    return String.join(
        "\n",
        "node: pg-" + node.name(),
        "listen: 127.0.0.1:" + port,
        "tokenFile: " + dir.resolve("token"),
        "eventLog: " + dir.resolve("events.jsonl"),
        "postgres:",
        "  dataDirectory: " + node.dataDir(),
        "  bindir: " + PgBinaries.locate().binDir(),
        "  osUser: " + osUser,
        "  host: " + node.host(),
        "  port: " + node.port(),
        "  service: pg-ctl",
        "  serverLog: " + node.logFile(),
        "  local: {user: "
            + DatabaseRoles.CONTROLLER
            + ", password: {file: "
            + dir.resolve("local-pw")
            + "}}",
        "replication:",
        "  user: replicator",
        "  passwordFile: " + dir.resolve("replication-pw"),
        "  passfile: " + clusterDir.resolve("replication-" + node.name() + ".pgpass"),
        "rejoin: {reclone: " + reclone + ", streamTimeout: 60s}",
        "");
  }

  void start() throws Exception {
    agent = Agent.start(config, Clock.systemUTC(), beforePhase);
  }

  /** Stops the agent only (PostgreSQL stays as it is). */
  void stop() {
    if (agent != null) {
      agent.close();
      agent = null;
    }
  }

  /** Waits for the rejoin to end DONE; a FAILED one stops the wait with its error. */
  NodeAgents.Rejoin awaitDone() {
    Waits.until(
        name + "'s rejoin to finish",
        Duration.ofMinutes(3),
        () -> {
          NodeAgents.Rejoin r = client.rejoinState(name).value().orElseThrow();
          if (r.state() == RejoinPhase.FAILED) {
            throw new Waits.GiveUp("the rejoin failed: " + r.error().orElse("?"));
          }
          return r.state() == RejoinPhase.DONE;
        });
    return client.rejoinState(name).value().orElseThrow();
  }

  /** Waits for the rejoin to end FAILED. */
  NodeAgents.Rejoin awaitFailed() {
    Waits.until(
        name + "'s rejoin to fail",
        Duration.ofMinutes(3),
        () -> {
          NodeAgents.Rejoin r = client.rejoinState(name).value().orElseThrow();
          if (r.state() == RejoinPhase.DONE) {
            throw new Waits.GiveUp("the rejoin succeeded");
          }
          return r.state() == RejoinPhase.FAILED;
        });
    return client.rejoinState(name).value().orElseThrow();
  }

  /** The agent's event history, one JSON text per event. */
  List<String> events() throws Exception {
    return Files.readAllLines(config.eventLog().path());
  }

  /** One value from {@code node} as the superuser. */
  static String query(PgNode node, String sql) throws Exception {
    try (Connection c = node.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  static void execute(PgNode node, String sql) throws Exception {
    try (Connection c = node.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  /** The server's live timeline. */
  static long timeline(PgNode node) throws Exception {
    return Long.parseLong(
        query(
            node,
            "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM"
                + " pg_stat_wal_receiver) ELSE ('x' ||"
                + " substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END"));
  }

  @Override
  public void close() {
    stop();
  }
}
