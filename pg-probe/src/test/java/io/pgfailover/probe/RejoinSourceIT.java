package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.pg.DatabaseRoles;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A new primary readied as a rejoin's source, as the replication role config/roles.sql makes: only
 * a primary on exactly the expected timeline qualifies, its control file is then on that timeline,
 * the slot exists (once), and every failure is a value.
 */
class RejoinSourceIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  static final String REPLICATION_PW = "rejoin-source-it";
  static final Duration BUDGET = Duration.ofSeconds(30);

  @BeforeAll
  static void roles() {
    DatabaseRoles.apply(pg.pair(), "controller-unused", REPLICATION_PW);
  }

  private static NodeEndpoint replicator(PgNode node) {
    return new NodeEndpoint(
        "pg-" + node.name(),
        node.host(),
        node.port(),
        "postgres",
        "replicator",
        PasswordSource.literal(REPLICATION_PW),
        java.util.Map.of());
  }

  @Test
  void onlyAPrimaryOnTheExpectedTimelineIsReadyAndItsSlotIsCreatedOnce() throws Exception {
    PgNode primary = pg.primary();
    long timeline =
        Long.parseLong(query(primary, "SELECT timeline_id FROM pg_control_checkpoint()"));

    RejoinSource.Preparation standby =
        RejoinSource.prepare(replicator(pg.standby()), timeline, "pgfailover_x", BUDGET);
    assertFalse(standby.ok());
    assertTrue(standby.error().orElseThrow().contains("is not a primary"), standby.toString());

    RejoinSource.Preparation wrong =
        RejoinSource.prepare(replicator(primary), timeline + 1, "pgfailover_x", BUDGET);
    assertFalse(wrong.ok());
    assertEquals(OptionalLong.of(timeline), wrong.timeline());
    assertTrue(
        wrong.error().orElseThrow().contains("not on the expected timeline"), wrong.toString());
    assertEquals(
        "0",
        query(
            primary, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'pgfailover_x'"));

    RejoinSource.Preparation ready =
        RejoinSource.prepare(replicator(primary), timeline, "pgfailover_x", BUDGET);
    assertTrue(ready.ok(), ready.toString());
    assertTrue(ready.slotCreated());
    assertTrue(ready.clusterBytes().getAsLong() > 1_000_000);
    assertEquals(
        "t",
        query(
            primary,
            "SELECT restart_lsn IS NOT NULL FROM pg_replication_slots WHERE slot_name ="
                + " 'pgfailover_x'"),
        "the slot keeps WAL from its creation on");
    RejoinSource.Preparation again =
        RejoinSource.prepare(replicator(primary), timeline, "pgfailover_x", BUDGET);
    assertTrue(again.ok() && !again.slotCreated(), again.toString());

    assertFalse(RejoinSource.prepare(replicator(primary), timeline, "Bad-Slot", BUDGET).ok());
  }

  @Test
  void afterAPromotionTheSourcesControlFileIsOnItsNewTimeline() throws Exception {
    PgNode standby = pg.standby();
    pg.promote(standby);
    try {
      long live =
          Long.parseLong(
              query(
                  standby,
                  "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1,"
                      + " 8))::bit(32)::bigint"));
      RejoinSource.Preparation p =
          RejoinSource.prepare(replicator(standby), live, "pgfailover_y", BUDGET);
      assertTrue(p.ok(), p.toString());
      assertEquals(
          Long.toString(live), query(standby, "SELECT timeline_id FROM pg_control_checkpoint()"));
      // What a lagging control file would need: the replication role may checkpoint.
      try (java.sql.Connection c =
              io.pgfailover.probe.internal.ProbeConnections.open(replicator(standby), BUDGET);
          java.sql.Statement s = c.createStatement()) {
        s.execute("CHECKPOINT");
      }
    } finally {
      pg.pair().recreateStandby();
    }
  }
}
