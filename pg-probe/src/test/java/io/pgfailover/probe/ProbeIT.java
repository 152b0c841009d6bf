package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static io.pgfailover.probe.TestNodes.execute;
import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Probes of a healthy pair: nothing here kills or promotes, so the tests share one pair in any
 * order.
 */
class ProbeIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  static PgProbe probe;

  @BeforeAll
  static void createProbe() {
    probe = new PgProbe(ProbeSettings.defaults());
  }

  @AfterAll
  static void closeProbe() {
    probe.close();
  }

  @Test
  void reportsRolesTimelinesPositionsAndTheWalReceiver() {
    PgNode primaryNode = pg.primary();
    Instant before = Instant.now();
    List<ProbeResult> results =
        probe.probeAll(List.of(endpoint(primaryNode), endpoint(pg.standby())));
    ProbeResult primary = results.get(0);
    ProbeResult standby = results.get(1);

    assertEquals(Reachability.REACHABLE, primary.reachability(), primary.toString());
    assertEquals("pg-a", primary.node());
    assertEquals(Role.PRIMARY, primary.role());
    assertEquals(OptionalLong.of(1), primary.timeline());
    assertTrue(primary.currentLsn().isPresent());
    assertTrue(
        primary.receiveLsn().isEmpty()
            && primary.replayLsn().isEmpty()
            && primary.walReceiver().isEmpty());
    assertTrue(
        primary.serverVersion().orElseThrow().startsWith("15"), primary.serverVersion().toString());
    assertTrue(primary.writeCheck().isEmpty(), "write check is off by default");
    assertFalse(primary.observedAt().isBefore(before.minusMillis(1)));
    assertFalse(primary.latency().isNegative());

    assertEquals(Reachability.REACHABLE, standby.reachability(), standby.toString());
    assertEquals(Role.STANDBY, standby.role());
    assertEquals(OptionalLong.of(1), standby.timeline());
    assertTrue(standby.currentLsn().isEmpty());
    assertTrue(standby.receiveLsn().isPresent() && standby.replayLsn().isPresent());
    WalReceiver receiver = standby.walReceiver().orElseThrow();
    assertEquals("streaming", receiver.status());
    assertTrue(receiver.streaming());
    assertEquals(primaryNode.host(), receiver.senderHost());
    assertEquals(primaryNode.port(), receiver.senderPort());
    // wal_receiver_timeout is 4 s in the harness: the receiver hears from the primary at least
    // every 2 s.
    assertTrue(
        receiver.sinceLastMessage().orElseThrow().compareTo(Duration.ofSeconds(4)) < 0,
        receiver.toString());
    assertTrue(ReplicationLag.bytes(primary, standby).isPresent());
    // The primary lists its one standby; the settings that decide about writes are read as well.
    assertEquals(1, primary.replicas().size(), primary.replicas().toString());
    Replica replica = primary.replicas().get(0);
    assertTrue(replica.streaming() && !replica.synchronous(), replica.toString());
    assertTrue(replica.flushLsn().isPresent());
    assertEquals(List.of(), standby.replicas());
    assertEquals(new ProbeResult.ServerSettings(false, ""), primary.settings().orElseThrow());
    assertEquals(new ProbeResult.ServerSettings(false, ""), standby.settings().orElseThrow());
  }

  @Test
  void lagGrowsWhileReplayIsPausedAndReturnsToZero() throws Exception {
    PgNode primary = pg.primary();
    PgNode standby = pg.standby();
    execute(standby, "SELECT pg_wal_replay_pause()");
    try {
      Waits.until(
          "replay to pause",
          Duration.ofSeconds(10),
          () -> "paused".equals(query(standby, "SELECT pg_get_wal_replay_pause_state()")));
      execute(
          primary,
          "CREATE TABLE lag_load AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1,"
              + " 20000) g");
      long twoMegabytes = 2L << 20;
      Waits.until(
          "lag and receive/replay gap above 2 MB",
          Duration.ofSeconds(20),
          () -> {
            List<ProbeResult> r = probe.probeAll(List.of(endpoint(primary), endpoint(standby)));
            return ReplicationLag.bytes(r.get(0), r.get(1)).orElse(0) > twoMegabytes
                && ReplicationLag.receiveReplayGap(r.get(1)).orElse(0) > twoMegabytes;
          });
    } finally {
      execute(standby, "SELECT pg_wal_replay_resume()");
    }
    // "About zero": a checkpoint or other background record may land between the two probes.
    Waits.until(
        "lag back to about zero",
        Duration.ofSeconds(20),
        () -> {
          List<ProbeResult> r = probe.probeAll(List.of(endpoint(primary), endpoint(standby)));
          return ReplicationLag.bytes(r.get(0), r.get(1)).orElse(Long.MAX_VALUE) < 8192
              && ReplicationLag.receiveReplayGap(r.get(1)).orElse(Long.MAX_VALUE) < 8192;
        });
  }

  @Test
  void wrongPasswordIsAuthFailed() {
    ProbeResult r =
        probe.probe(endpoint(pg.primary()).withPassword(PasswordSource.literal("wrong")));
    assertEquals(Reachability.AUTH_FAILED, r.reachability(), r.toString());
    assertTrue(r.error().orElseThrow().startsWith("SQLSTATE 28P01"), r.error().orElseThrow());
    assertEquals(Role.UNKNOWN, r.role());
  }

  @Test
  void roleConnectionLimitIsTooManyConnections() throws Exception {
    execute(pg.primary(), "CREATE ROLE limited LOGIN PASSWORD 'limited' CONNECTION LIMIT 0");
    NodeEndpoint limited =
        NodeEndpoint.of(
            "pg-a",
            pg.primary().host(),
            pg.primary().port(),
            "postgres",
            "limited",
            PasswordSource.literal("limited"));
    ProbeResult r = probe.probe(limited);
    assertEquals(Reachability.TOO_MANY_CONNECTIONS, r.reachability(), r.toString());
  }

  @Test
  void closedPortIsRefused() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    ProbeResult r =
        probe.probe(
            NodeEndpoint.of(
                "nowhere", "127.0.0.1", closedPort, "postgres", "u", PasswordSource.literal("x")));
    assertEquals(Reachability.REFUSED, r.reachability(), r.toString());
  }

  @Test
  void aPgMonitorRoleSeesEverythingASuperuserSees(@TempDir Path dir) throws Exception {
    execute(pg.primary(), "CREATE ROLE monitor LOGIN PASSWORD 'monitor-pw' IN ROLE pg_monitor");
    Path pgpass = dir.resolve("pgpass");
    Files.writeString(pgpass, "127.0.0.1:*:postgres:monitor:monitor-pw\n");
    Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-------"));
    Waits.until(
        "role to replicate",
        Duration.ofSeconds(10),
        () ->
            "1"
                .equals(
                    query(
                        pg.standby(), "SELECT count(*) FROM pg_roles WHERE rolname = 'monitor'")));
    for (PgNode node : List.of(pg.primary(), pg.standby())) {
      NodeEndpoint monitor =
          NodeEndpoint.of(
              "pg-" + node.name(),
              node.host(),
              node.port(),
              "postgres",
              "monitor",
              PasswordSource.pgpass(pgpass));
      ProbeResult r = probe.probe(monitor);
      assertEquals(Reachability.REACHABLE, r.reachability(), r.toString());
      assertEquals(OptionalLong.of(1), r.timeline());
      if (r.role() == Role.STANDBY) {
        assertTrue(r.walReceiver().orElseThrow().streaming());
      }
    }
  }

  @Test
  void writeCheckWritesAHeartbeatThatReplicates() throws Exception {
    try (PgProbe writing = new PgProbe(ProbeSettings.defaults().withWriteCheck(true))) {
      List<ProbeResult> r =
          writing.probeAll(List.of(endpoint(pg.primary()), endpoint(pg.standby())));
      assertEquals(WriteCheck.passed(), r.get(0).writeCheck().orElseThrow(), r.get(0).toString());
      assertTrue(r.get(1).writeCheck().isEmpty(), "no write check on a standby");
    }
    Waits.until(
        "heartbeat to replicate",
        Duration.ofSeconds(10),
        () ->
            "1"
                .equals(
                    query(
                        pg.standby(),
                        "SELECT count(*) FROM pgfailover.heartbeat WHERE node = 'pg-a'")));
  }

  @Test
  void writeCheckThatBlocksIsCancelledByItsStatementTimeout() throws Exception {
    PgNode primary = pg.primary();
    try (PgProbe writing = new PgProbe(ProbeSettings.defaults().withWriteCheck(true))) {
      assertTrue(
          writing.probe(endpoint(primary)).writeCheck().orElseThrow().ok(),
          "creates the heartbeat row");
      try (java.sql.Connection holder = primary.connect()) {
        holder.setAutoCommit(false);
        try (java.sql.Statement s = holder.createStatement()) {
          s.execute("SELECT * FROM pgfailover.heartbeat WHERE node = 'pg-a' FOR UPDATE");
        }
        ProbeResult r = writing.probe(endpoint(primary));
        assertEquals(Reachability.REACHABLE, r.reachability(), r.toString());
        WriteCheck check = r.writeCheck().orElseThrow();
        // 57014 query_canceled: statement_timeout (500 ms) fired inside the 1 s probe deadline.
        assertTrue(check.error().orElseThrow().startsWith("SQLSTATE 57014"), check.toString());
        holder.rollback();
      }
    }
  }

  @Test
  void writeCheckCatchesAReadOnlyPrimary() throws Exception {
    PgNode primary = pg.primary();
    execute(
        primary, "ALTER SYSTEM SET default_transaction_read_only = on", "SELECT pg_reload_conf()");
    try (PgProbe writing = new PgProbe(ProbeSettings.defaults().withWriteCheck(true))) {
      Waits.until(
          "read-only to take effect",
          Duration.ofSeconds(10),
          () -> "on".equals(query(primary, "SHOW default_transaction_read_only")));
      ProbeResult r = writing.probe(endpoint(primary));
      assertEquals(Reachability.REACHABLE, r.reachability(), r.toString());
      assertEquals(Role.PRIMARY, r.role());
      WriteCheck check = r.writeCheck().orElseThrow();
      assertFalse(check.ok());
      assertTrue(check.error().orElseThrow().startsWith("SQLSTATE 25006"), check.toString());
    } finally {
      execute(
          primary,
          "SET default_transaction_read_only = off",
          "ALTER SYSTEM RESET default_transaction_read_only",
          "SELECT pg_reload_conf()");
      Waits.until(
          "read-write again",
          Duration.ofSeconds(10),
          () -> "off".equals(query(primary, "SHOW default_transaction_read_only")));
    }
  }

  @Test
  void writeCheckRefusesAHeartbeatSchemaAnotherRoleCreatedFirst() throws Exception {
    PgNode primary = pg.primary();
    execute(
        primary,
        "DROP SCHEMA IF EXISTS pgfailover CASCADE",
        "CREATE ROLE pgfo_intruder NOLOGIN",
        "CREATE SCHEMA pgfailover AUTHORIZATION pgfo_intruder");
    try (PgProbe writing = new PgProbe(ProbeSettings.defaults().withWriteCheck(true))) {
      ProbeResult r = writing.probe(endpoint(primary));
      assertEquals(Reachability.REACHABLE, r.reachability(), r.toString());
      assertEquals(
          WriteCheck.failed(
              "heartbeat schema pgfailover belongs to role pgfo_intruder, not to postgres (the"
                  + " controller's login role): not writing, since its owner could make the write"
                  + " run code as the controller. Fix: ALTER SCHEMA pgfailover OWNER TO postgres"
                  + " (or DROP SCHEMA pgfailover CASCADE: the controller re-creates it)"),
          r.writeCheck().orElseThrow());
      assertEquals(
          null,
          query(primary, "SELECT to_regclass('pgfailover.heartbeat')"),
          "no table created in the other role's schema, nothing written");
    } finally {
      execute(primary, "DROP SCHEMA pgfailover CASCADE", "DROP ROLE pgfo_intruder");
    }
  }

  @Test
  void writeCheckRefusesAHeartbeatTableAnotherRoleOwns() throws Exception {
    PgNode primary = pg.primary();
    execute(
        primary,
        "DROP SCHEMA IF EXISTS pgfailover CASCADE",
        "CREATE ROLE pgfo_intruder NOLOGIN",
        "CREATE SCHEMA pgfailover",
        "CREATE TABLE pgfailover.heartbeat (node text PRIMARY KEY, beat_at timestamptz NOT NULL)",
        "ALTER TABLE pgfailover.heartbeat OWNER TO pgfo_intruder");
    try (PgProbe writing = new PgProbe(ProbeSettings.defaults().withWriteCheck(true))) {
      WriteCheck check = writing.probe(endpoint(primary)).writeCheck().orElseThrow();
      assertEquals(
          WriteCheck.failed(
              "heartbeat table pgfailover.heartbeat belongs to role pgfo_intruder, not to postgres"
                  + " (the controller's login role): not writing, since its owner could make the"
                  + " write run code as the controller. Fix: ALTER TABLE pgfailover.heartbeat OWNER"
                  + " TO postgres (or DROP TABLE pgfailover.heartbeat: the controller re-creates"
                  + " it)"),
          check);
      assertEquals("0", query(primary, "SELECT count(*) FROM pgfailover.heartbeat"));

      execute(primary, "ALTER TABLE pgfailover.heartbeat OWNER TO postgres");
      assertEquals(
          WriteCheck.passed(),
          writing.probe(endpoint(primary)).writeCheck().orElseThrow(),
          "writes again once the controller's role owns it");
    } finally {
      execute(primary, "DROP SCHEMA pgfailover CASCADE", "DROP ROLE pgfo_intruder");
    }
  }
}
