package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static io.pgfailover.probe.TestNodes.execute;
import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The switchover steps on a real pair: stop writes, catch up, allow writes. */
class WriteControlIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  final WriteControl control = new WriteControl(Duration.ofSeconds(5));

  @AfterEach
  void reopenWrites() {
    control.allowWrites(endpoint(pg.primary()));
  }

  @Test
  void stoppedWritesEndSessionsRefuseNewWritesAndTheStandbyCatchesUp() throws Exception {
    PgNode primary = pg.primary();
    execute(
        primary,
        "CREATE TABLE IF NOT EXISTS wc (id int)",
        "INSERT INTO wc SELECT generate_series(1, 1000)");
    WriteControl.Result stop;
    try (Connection open = primary.connect();
        Statement s = open.createStatement()) {
      s.execute("BEGIN");
      s.execute("INSERT INTO wc VALUES (-1)");

      stop = control.stopWrites(endpoint(primary));
      assertTrue(stop.ok(), stop.toString());
      assertTrue(stop.changed());
      assertTrue(
          stop.sessionsEnded() >= 1, "the session with an open transaction was ended: " + stop);
      assertThrows(
          SQLException.class, () -> s.execute("COMMIT"), "its uncommitted write never commits");
    }
    SQLException refused =
        assertThrows(SQLException.class, () -> execute(primary, "INSERT INTO wc VALUES (1)"));
    assertEquals("25006", refused.getSQLState(), "read-only transaction");

    WriteControl.Result again = control.stopWrites(endpoint(primary));
    assertTrue(again.ok());
    assertFalse(again.changed(), "a second stop changes nothing");

    WriteControl.Result caughtUp =
        control.awaitReplay(
            endpoint(pg.standby()), stop.lsn().orElseThrow(), Duration.ofSeconds(10));
    assertTrue(caughtUp.ok(), caughtUp.toString());
    assertEquals("1000", query(pg.standby(), "SELECT count(*) FROM wc WHERE id > 0"));
    assertEquals("0", query(pg.standby(), "SELECT count(*) FROM wc WHERE id = -1"));

    assertTrue(control.allowWrites(endpoint(primary)).ok());
    execute(primary, "INSERT INTO wc VALUES (2)");
  }

  @Test
  void waitingForAPositionNotYetWrittenTimesOut() {
    Lsn far = new Lsn(Long.MAX_VALUE / 2);
    WriteControl.Result r =
        control.awaitReplay(endpoint(pg.standby()), far, Duration.ofMillis(300));
    assertFalse(r.ok());
    assertTrue(r.error().orElseThrow().contains("replayed only up to"), r.toString());
  }

  @Test
  void stoppingWritesOnAStandbyIsRefused() {
    WriteControl.Result r = control.stopWrites(endpoint(pg.standby()));
    assertFalse(r.ok());
    assertTrue(r.error().orElseThrow().contains("is a standby"), r.toString());
  }
}
