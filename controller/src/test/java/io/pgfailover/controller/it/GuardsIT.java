package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The guards that keep the controller from failing over when it must not. */
class GuardsIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  @TempDir Path dir;
  LabCluster lab;
  TcpProxy proxy;
  long frozenWalReceiver;

  @AfterEach
  void close() throws Exception {
    if (frozenWalReceiver > 0) {
      new ProcessBuilder("kill", "-CONT", Long.toString(frozenWalReceiver)).start().waitFor();
    }
    if (lab != null) {
      lab.close();
    }
    if (proxy != null) {
      proxy.close();
    }
  }

  @Test
  void aCutPathFromTheControllerIsNotAFailoverWhileTheStandbyStillHearsThePrimary()
      throws Exception {
    LabCluster.healthyPair(pg.pair());
    PgNode primary = pg.primary();
    proxy = new TcpProxy(primary.port());
    lab =
        new LabCluster(
            pg.pair(),
            aws,
            dir,
            LabConfig.DEFAULT_FAILOVER,
            Map.of("pg-" + primary.name(), new int[] {proxy.port()}));
    ControlLoop loop = lab.start();
    lab.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);

    proxy.cut();
    LoopReport veto =
        lab.awaitDecision(
            "the witness veto",
            Duration.ofSeconds(30),
            r -> r.decision().reason() == Reason.PRIMARY_ALIVE_PER_WITNESS);
    assertTrue(
        veto.decision().message().contains("the controller's path is broken"),
        veto.decision().message());
    long at = loop.loops();
    // Ten more loops (about 10 s, twice the witness window): the standby keeps hearing the primary,
    // so the veto holds.
    lab.awaitDecision("ten more loops", Duration.ofSeconds(40), r -> loop.loops() >= at + 10);
    assertEquals(
        Reason.PRIMARY_ALIVE_PER_WITNESS,
        loop.last().orElseThrow().decision().reason(),
        loop.last().orElseThrow().decision().message());
    assertEquals(
        "t", query(pg.pair().other(primary), "SELECT pg_is_in_recovery()"), "nothing promoted");
    assertTrue(lab.routesOn("pg-" + primary.name()), "routes untouched");
    assertEquals(
        1,
        lab.metrics.counter("pgfailover_alarms_total", "kind=\"CONTROLLER_PATH_BROKEN\""),
        "one alarm episode, not one per loop");
    assertEquals(
        1.0, lab.metrics.gaugeValue("pgfailover_alarm_active", "kind=\"CONTROLLER_PATH_BROKEN\""));
  }

  @Test
  void aStandbyTooFarBehindIsNotPromotedAutomatically() throws Exception {
    LabCluster.healthyPair(pg.pair());
    lab =
        new LabCluster(
            pg.pair(), aws, dir, "automatic: true, maxLagBytes: 64kB, witnessWindow: 2s", Map.of());
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    ControlLoop loop = lab.start();
    lab.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);

    // Freeze the standby's WAL receiver: it stops receiving while the primary writes on.
    frozenWalReceiver = Long.parseLong(query(standby, "SELECT pid FROM pg_stat_wal_receiver"));
    new ProcessBuilder("kill", "-STOP", Long.toString(frozenWalReceiver)).start().waitFor();
    try (Connection c = primary.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS filler (b text)");
      s.execute("INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)");
    }
    String written = query(primary, "SELECT pg_current_wal_lsn()::text");
    long target = lsn(written);
    lab.awaitDecision(
        "a loop that saw the primary's new WAL position",
        Duration.ofSeconds(30),
        r ->
            r.snapshot()
                .node("pg-" + primary.name())
                .flatMap(
                    o ->
                        o.walPosition().isPresent()
                            ? java.util.Optional.of(o.walPosition().getAsLong())
                            : java.util.Optional.empty())
                .filter(p -> p >= target)
                .isPresent());

    pg.kill(primary);
    LoopReport refused =
        lab.awaitDecision(
            "the lag alarm",
            Duration.ofSeconds(60),
            r -> r.decision().reason() == Reason.LAG_TOO_HIGH);
    assertTrue(refused.decision().message().contains("bytes behind"), refused.decision().message());
    long at = loop.loops();
    lab.awaitDecision("three more loops", Duration.ofSeconds(20), r -> loop.loops() >= at + 3);
    assertEquals(Reason.LAG_TOO_HIGH, loop.last().orElseThrow().decision().reason());
    assertEquals("t", query(standby, "SELECT pg_is_in_recovery()"), "not promoted");
  }

  static long lsn(String text) {
    String[] p = text.split("/");
    return (Long.parseLong(p[0], 16) << 32) | Long.parseLong(p[1], 16);
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
