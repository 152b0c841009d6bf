package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgfailover.controller.admin.AdminServer;
import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.cli.Failoverctl;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.lab.Demo;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's paths: switchover without loss, manual failover through the CLI and the daemon's
 * API.
 */
class ManualIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  @TempDir Path dir;
  LabCluster lab;
  AdminServer admin;

  @AfterEach
  void close() throws Exception {
    if (admin != null) {
      admin.close();
    }
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void aSwitchoverUnderWritesLosesNoCommittedRow() throws Exception {
    lab = new LabCluster(pg.pair(), aws, dir, LabConfig.DEFAULT_FAILOVER, Map.of());
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    ControlLoop loop = lab.start();
    lab.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);
    try (Connection c = primary.connect();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE demo_writes (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT"
              + " now())");
    }
    Demo.Writer writer = new Demo.Writer(lab.router());
    Thread t = new Thread(writer, "writer");
    t.start();
    Waits.until("100 acknowledged writes", Duration.ofSeconds(30), () -> writer.acks.size() >= 100);

    LoopReport done =
        loop.submit(new Request.Switchover(lab.name(standby))).get(120, TimeUnit.SECONDS);
    Instant switched = Instant.now();
    assertEquals(Reason.SWITCHOVER, done.decision().reason(), done.decision().message());
    assertTrue(done.ok(), done.steps().toString());
    assertTrue(lab.routesOn(lab.name(standby)), lab.routeTargets().toString());
    Waits.until(
        "100 writes acknowledged by the new primary",
        Duration.ofSeconds(30),
        () -> writer.acksAfter(switched) >= 100);
    writer.stop.set(true);
    t.join(10_000);

    Set<Long> stored = new HashSet<>();
    try (Connection c = standby.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id FROM demo_writes")) {
      while (rs.next()) {
        stored.add(rs.getLong(1));
      }
    }
    long lost = writer.acks.stream().filter(a -> !stored.contains(a.id())).count();
    assertEquals(
        0,
        lost,
        "every acknowledged row is on the new primary (" + writer.acks.size() + " acknowledged)");
    LoopReport after =
        lab.awaitDecision(
            "the old primary seen read-only beside the new one",
            Duration.ofSeconds(30),
            r -> r.decision().reason() == Reason.TWO_PRIMARIES);
    assertTrue(after.decision().message().contains("(read-only)"), after.decision().message());
    assertTrue(lab.routesOn(lab.name(standby)));
  }

  @Test
  void theCliGoesThroughTheRunningDaemonAndItsGuards() throws Exception {
    lab = new LabCluster(pg.pair(), aws, dir, LabConfig.DEFAULT_FAILOVER, Map.of());
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    ControlLoop loop = lab.start();
    admin =
        new AdminServer(
            lab.config,
            loop,
            new EventLog(lab.eventLog, Clock.systemUTC(), "lab"),
            lab.metrics,
            Clock.systemUTC());
    admin.start();
    lab.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);
    String cfg = lab.configFile.toString();

    Cli status = cli("status", "--json", "-c", cfg);
    assertEquals(ExitCodes.OK, status.code, status.err);
    JsonNode s = new ObjectMapper().readTree(status.out);
    assertEquals("HEALTHY", s.path("reason").asText());
    assertEquals(2, s.path("nodes").size());

    Cli refused = cli("failover", "-c", cfg, "--to", lab.name(standby));
    assertEquals(ExitCodes.REFUSED, refused.code, refused.out + refused.err);
    assertTrue(refused.out.contains("is healthy: use switchover"), refused.out);
    assertTrue(lab.routesOn(lab.name(primary)), "nothing changed");

    HttpResponse<String> wrongToken =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://"
                                + lab.config.admin().listen().getHostString()
                                + ":"
                                + lab.config.admin().listen().getPort()
                                + "/failover"))
                    .header("Authorization", "Bearer wrong")
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(401, wrongToken.statusCode());

    pg.kill(primary);
    Cli failover = cli("failover", "-c", cfg, "--to", lab.name(standby));
    assertEquals(ExitCodes.OK, failover.code, failover.out + failover.err);
    assertTrue(failover.out.contains("\"via\" : \"daemon\""), failover.out);
    assertTrue(lab.routesOn(lab.name(standby)), lab.routeTargets().toString());

    HttpResponse<String> metrics =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create(
                            "http://127.0.0.1:"
                                + lab.config.admin().listen().getPort()
                                + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertTrue(
        metrics.body().contains("pgfailover_failovers_total{kind=\"manual_failover\"} 1"),
        metrics.body());
    assertTrue(
        metrics.body().contains("pgfailover_last_failover_phase_ms{phase=\"promoted\"}"),
        metrics.body());
  }

  @Test
  void configCheckReportsEveryErrorWithItsLine() throws Exception {
    Path bad =
        Files.writeString(
            dir.resolve("bad.yaml"),
            "cluster: x\n"
                + "aws: {region: nowhere}\n"
                + "virtualIp: 10.0.0.1\n"
                + "routeTables: []\n"
                + "nodes: []\n"
                + "probe: {interval: soon}\n");
    Cli check = cli("config", "check", "-c", bad.toString());
    assertEquals(ExitCodes.CONFIG, check.code);
    for (String expected :
        new String[] {
          ":2: aws.region:",
          ":3: virtualIp:",
          ":4: routeTables: is empty",
          ":5: nodes: has 0 node(s)",
          ":6: probe.interval: \"soon\" is not a duration"
        }) {
      assertTrue(check.err.contains(expected), "missing " + expected + " in:\n" + check.err);
    }
  }

  record Cli(int code, String out, String err) {}

  static Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Failoverctl.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Cli(code, out.toString(), err.toString());
  }
}
