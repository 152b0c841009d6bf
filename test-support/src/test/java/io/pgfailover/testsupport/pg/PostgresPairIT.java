package io.pgfailover.testsupport.pg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode.Role;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The harness itself: the pair replicates, and each operation does what later tests rely on. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PostgresPairIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  @Test
  @Order(1)
  void standbyStreamsFromPrimaryAndServersListenOnLoopbackOnly() throws Exception {
    PgNode primary = pg.primary();
    PgNode standby = pg.standby();
    assertEquals("a", primary.name());
    assertTrue(Files.exists(standby.dataDir().resolve("standby.signal")));
    assertEquals("", query(primary, "SHOW unix_socket_directories"));
    assertEquals("127.0.0.1", query(primary, "SHOW listen_addresses"));
    assertEquals("t", query(standby, "SELECT pg_is_in_recovery()"));
    execute(primary, "CREATE TABLE replicated(x int); INSERT INTO replicated VALUES (42)");
    Waits.until(
        "row to replicate",
        Duration.ofSeconds(10),
        () -> "42".equals(query(standby, "SELECT x FROM replicated")));
  }

  @Test
  @Order(2)
  void frozenPrimaryDoesNotAnswerUntilThawed() throws Exception {
    PgNode primary = pg.primary();
    try (Connection open = primary.connect()) {
      pg.freeze(primary);
      // An already-open backend is frozen too, not just the postmaster.
      CompletableFuture<String> answer =
          CompletableFuture.supplyAsync(
              () -> {
                try (Statement s = open.createStatement();
                    ResultSet rs = s.executeQuery("SELECT 1")) {
                  rs.next();
                  return rs.getString(1);
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      assertThrows(TimeoutException.class, () -> answer.get(1500, TimeUnit.MILLISECONDS));
      pg.thaw(primary);
      assertEquals("1", answer.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  @Order(3)
  void stopAndStartKeepTheData() throws Exception {
    PgNode primary = pg.primary();
    long oldPid = primary.pid();
    pg.stop(primary);
    assertFalse(primary.isRunning());
    pg.start(primary);
    assertTrue(primary.pid() != oldPid);
    assertEquals("42", query(primary, "SELECT x FROM replicated"));
    pg.pair().awaitStreaming(pg.standby());
  }

  @Test
  @Order(4)
  void killPromoteAndRecreateSwapTheRoles() throws Exception {
    PgNode oldPrimary = pg.killPrimary();
    assertFalse(oldPrimary.isRunning());
    PgNode newPrimary = pg.standby();
    pg.promote(newPrimary);
    assertEquals(Role.PRIMARY, newPrimary.role());
    assertEquals(Role.DETACHED, oldPrimary.role());
    execute(newPrimary, "INSERT INTO replicated VALUES (43)");
    pg.recreateStandby();
    assertEquals(oldPrimary, pg.standby());
    Waits.until(
        "row to replicate to the re-made standby",
        Duration.ofSeconds(10),
        () -> "2".equals(query(oldPrimary, "SELECT count(*) FROM replicated")));
  }

  @Test
  @Order(5)
  void refreshRolesFollowsAPromotionDoneOutsideTheHarness() throws Exception {
    PgNode standby = pg.standby();
    execute(standby, "SELECT pg_promote(true, 60)");
    pg.refreshRoles(); // two running primaries: the one on the newer timeline wins
    assertEquals(standby, pg.primary());
    assertEquals(Role.DETACHED, pg.pair().other(standby).role());
    pg.recreateStandby();
  }

  static String query(PgNode node, String sql) throws SQLException {
    try (Connection c = node.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  static void execute(PgNode node, String sql) throws SQLException {
    try (Connection c = node.connect();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
