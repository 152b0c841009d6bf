package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.probe.PromotionResult.Outcome;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.time.Duration;
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
    pg.killPrimary();

    PromotionResult first = probe.promote(endpoint(standby), Duration.ofSeconds(30));
    ProbeResult after = probe.probe(endpoint(standby));

    assertEquals(Outcome.PROMOTED, first.outcome(), first.toString());
    assertEquals(OptionalLong.of(1), first.timelineBefore());
    assertEquals(OptionalLong.of(2), first.timelineAfter());
    assertEquals(Role.PRIMARY, after.role());
    assertEquals(OptionalLong.of(2), after.timeline());

    PromotionResult second = probe.promote(endpoint(standby), Duration.ofSeconds(30));
    assertEquals(Outcome.ALREADY_PRIMARY, second.outcome(), second.toString());
    assertEquals(OptionalLong.of(2), second.timelineBefore());
    assertEquals(OptionalLong.of(2), second.timelineAfter());

    // The old primary, re-made from the new one, follows timeline 2 (read from its WAL receiver).
    pg.refreshRoles();
    pg.recreateStandby();
    ProbeResult newStandby = probe.probe(endpoint(pg.standby()));
    assertEquals(Role.STANDBY, newStandby.role(), newStandby.toString());
    assertEquals(OptionalLong.of(2), newStandby.timeline());
    assertEquals(standby.port(), newStandby.walReceiver().orElseThrow().senderPort());
  }
}
