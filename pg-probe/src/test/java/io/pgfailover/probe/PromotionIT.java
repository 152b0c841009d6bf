package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static io.pgfailover.probe.TestNodes.execute;
import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.probe.PromotionResult.Outcome;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import io.pgfailover.testsupport.pg.ProcessLauncher;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Promotion on a real pair; the failover test re-makes the pair's standby so the tests run in any
 * order.
 */
class PromotionIT {

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
  void promotingAPrimaryIsANoOp() throws Exception {
    PgNode primary = pg.primary();
    OptionalLong timeline = probe.probe(endpoint(primary)).timeline();
    String lsnBefore = query(primary, "SELECT pg_current_wal_lsn()");
    PromotionResult r = probe.promote(endpoint(primary), Duration.ofSeconds(10));
    assertEquals(Outcome.ALREADY_PRIMARY, r.outcome(), r.toString());
    assertEquals(timeline, r.timelineBefore());
    assertEquals(timeline, r.timelineAfter());
    assertEquals(Optional.empty(), r.error());
    assertEquals(lsnBefore, query(primary, "SELECT pg_current_wal_lsn()"), "nothing was written");
  }

  @Test
  void promotingAnUnreachableNodeFailsClearly() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    NodeEndpoint gone =
        NodeEndpoint.of(
            "pg-gone",
            "127.0.0.1",
            closedPort,
            "postgres",
            "postgres",
            PasswordSource.literal("x"));
    PromotionResult r = probe.promote(gone, Duration.ofSeconds(10));
    assertEquals(Outcome.NOT_STARTED, r.outcome());
    String error = r.error().orElseThrow();
    assertTrue(error.startsWith("node pg-gone is unreachable (REFUSED: SQLSTATE 08001"), error);
    assertTrue(error.endsWith("; not promoted"), error);
  }

  @Test
  void failoverPromotionAdvancesTheTimelineAndASecondPromotionIsANoOp() throws Exception {
    PgNode standby = pg.standby();
    // Tests that promote run in any order, each one timeline further.
    long timeline = probe.probe(endpoint(standby)).timeline().orElseThrow();
    pg.killPrimary();

    PromotionResult first = probe.promote(endpoint(standby), Duration.ofSeconds(30));
    ProbeResult after = probe.probe(endpoint(standby));

    assertEquals(Outcome.PROMOTED, first.outcome(), first.toString());
    assertEquals(OptionalLong.of(timeline), first.timelineBefore());
    assertEquals(OptionalLong.of(timeline + 1), first.timelineAfter());
    assertEquals(Role.PRIMARY, after.role());
    assertEquals(OptionalLong.of(timeline + 1), after.timeline());

    PromotionResult second = probe.promote(endpoint(standby), Duration.ofSeconds(30));
    assertEquals(Outcome.ALREADY_PRIMARY, second.outcome(), second.toString());
    assertEquals(OptionalLong.of(timeline + 1), second.timelineBefore());
    assertEquals(OptionalLong.of(timeline + 1), second.timelineAfter());

    // The old primary, re-made from the new one, follows the new timeline (read from its WAL
    // receiver).
    pg.refreshRoles();
    pg.recreateStandby();
    ProbeResult newStandby = probe.probe(endpoint(pg.standby()));
    assertEquals(Role.STANDBY, newStandby.role(), newStandby.toString());
    assertEquals(OptionalLong.of(timeline + 1), newStandby.timeline());
    assertEquals(standby.port(), newStandby.walReceiver().orElseThrow().senderPort());
  }

  @Test
  void aPromotionRefusedForLackOfPrivilegeStartsNothing() throws Exception {
    // Every probe right (pg_monitor), but not EXECUTE on pg_promote.
    execute(
        pg.primary(),
        "DROP ROLE IF EXISTS pgfo_no_promote",
        "CREATE ROLE pgfo_no_promote LOGIN PASSWORD 'no-promote-pw'",
        "GRANT pg_monitor TO pgfo_no_promote");
    PgNode standby = pg.standby();
    NodeEndpoint unprivileged =
        NodeEndpoint.of(
            "pg-" + standby.name(),
            standby.host(),
            standby.port(),
            "postgres",
            "pgfo_no_promote",
            PasswordSource.literal("no-promote-pw"));
    Waits.until(
        "the role to reach the standby",
        Duration.ofSeconds(30),
        () -> probe.probe(unprivileged).reachable());

    PromotionResult r = probe.promote(unprivileged, Duration.ofSeconds(10));

    assertEquals(Outcome.NOT_STARTED, r.outcome(), r.toString());
    assertFalse(r.mayHavePromoted());
    String error = r.error().orElseThrow();
    assertTrue(
        error.startsWith("pg_promote on pg-" + standby.name() + " failed: SQLSTATE 42501"), error);
    assertEquals(probe.probe(endpoint(standby)).timeline(), r.timelineBefore());
    assertEquals("t", query(standby, "SELECT pg_is_in_recovery()"), "still a standby");
    assertFalse(
        java.nio.file.Files.exists(standby.dataDir().resolve("promote.signal")),
        "no promote signal left behind");
  }

  @Test
  void aPromotionNotConfirmedInTimeIsFailedAndMayStillComplete() throws Exception {
    PgNode standby = pg.standby();
    long timeline = probe.probe(endpoint(standby)).timeline().orElseThrow();
    long startup =
        Long.parseLong(
            query(standby, "SELECT pid FROM pg_stat_activity WHERE backend_type = 'startup'"));
    pg.killPrimary();
    // The startup process ends recovery; stopped, it cannot act on the promote signal.
    ProcessLauncher.signal("STOP", List.of(startup));
    PromotionResult unconfirmed;
    try {
      unconfirmed = probe.promote(endpoint(standby), Duration.ofSeconds(1));
    } finally {
      ProcessLauncher.signal("CONT", List.of(startup));
    }

    assertEquals(Outcome.FAILED, unconfirmed.outcome(), unconfirmed.toString());
    assertTrue(unconfirmed.mayHavePromoted());
    assertEquals(OptionalLong.of(timeline), unconfirmed.timelineBefore());
    assertEquals(OptionalLong.of(timeline), unconfirmed.timelineAfter(), "last seen a standby");
    String error = unconfirmed.error().orElseThrow();
    assertTrue(
        error.startsWith(
            "promotion of pg-" + standby.name() + " not confirmed within PT1S (pg_promote: sent;"),
        error);
    assertTrue(
        error.contains("last seen: role STANDBY timeline OptionalLong[" + timeline + "]"), error);
    assertTrue(error.endsWith("it may still complete: probe the node before acting again"), error);

    // As FAILED warns: once the startup process runs again, the sent promotion completes.
    Waits.until(
        "the unconfirmed promotion to complete",
        Duration.ofSeconds(30),
        () -> probe.probe(endpoint(standby)).isPrimary());
    PromotionResult again = probe.promote(endpoint(standby), Duration.ofSeconds(10));
    assertEquals(Outcome.ALREADY_PRIMARY, again.outcome(), again.toString());
    assertEquals(OptionalLong.of(timeline + 1), again.timelineAfter());

    pg.refreshRoles();
    pg.recreateStandby();
  }
}
