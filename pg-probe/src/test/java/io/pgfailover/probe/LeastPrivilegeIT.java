package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static io.pgfailover.probe.TestNodes.execute;
import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.pg.DatabaseRoles;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The controller's steps as the role config/roles.sql creates (not a superuser): the privilege
 * check preflight runs, and a switchover's write stop and its removal.
 */
class LeastPrivilegeIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  static final String PASSWORD = "least-privilege-pw";
  final WriteControl control = new WriteControl(Duration.ofSeconds(5));

  @BeforeAll
  static void roles() throws Exception {
    DatabaseRoles.apply(pg.pair(), PASSWORD, "replication-pw");
    execute(
        pg.primary(),
        "DROP ROLE IF EXISTS pgfo_bare",
        "CREATE ROLE pgfo_bare LOGIN PASSWORD 'bare-password'");
  }

  @AfterEach
  void reopenWrites() {
    control.allowWrites(endpoint(pg.primary()));
  }

  static NodeEndpoint as(PgNode node, String user, String password) {
    return NodeEndpoint.of(
        "pg-" + node.name(),
        node.host(),
        node.port(),
        "postgres",
        user,
        PasswordSource.literal(password));
  }

  @Test
  void theRolesFileGrantsEverythingTheControllerChecksFor() {
    RoleGrants grants =
        RoleGrants.check(
            as(pg.primary(), DatabaseRoles.CONTROLLER, PASSWORD), Duration.ofSeconds(5));
    assertEquals(List.of(), grants.missing(), grants.toString());
    assertFalse(grants.superuser());
    assertTrue(grants.error().isEmpty(), grants.toString());
  }

  @Test
  void aBareRoleIsToldEachGrantItLacks() {
    RoleGrants grants =
        RoleGrants.check(as(pg.primary(), "pgfo_bare", "bare-password"), Duration.ofSeconds(5));
    assertEquals(
        List.of(
            "GRANT pg_monitor TO pgfo_bare",
            "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO pgfo_bare",
            "GRANT EXECUTE ON FUNCTION pg_reload_conf() TO pgfo_bare",
            "GRANT pg_signal_backend TO pgfo_bare",
            "GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO pgfo_bare",
            "GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO pgfo_bare"),
        grants.missing().stream().map(RoleGrants.Missing::grant).toList());
  }

  @Test
  void aSuperuserLacksNothing() {
    RoleGrants grants = RoleGrants.check(endpoint(pg.primary()), Duration.ofSeconds(5));
    assertTrue(grants.superuser());
    assertEquals(List.of(), grants.missing());
  }

  @Test
  void theControllersRoleStopsAndAllowsWritesAndLeavesSuperuserSessionsAlone() throws Exception {
    PgNode primary = pg.primary();
    NodeEndpoint controller = as(primary, DatabaseRoles.CONTROLLER, PASSWORD);
    execute(
        primary,
        "DROP ROLE IF EXISTS pgfo_app",
        "CREATE ROLE pgfo_app LOGIN PASSWORD 'app-password'",
        "CREATE TABLE IF NOT EXISTS lp (id int)",
        "GRANT INSERT, SELECT ON lp TO pgfo_app");
    try (Connection app =
            java.sql.DriverManager.getConnection(primary.jdbcUrl(), "pgfo_app", "app-password");
        Statement appTx = app.createStatement();
        Connection admin = primary.connect();
        Statement adminTx = admin.createStatement()) {
      appTx.execute("BEGIN");
      appTx.execute("INSERT INTO lp VALUES (1)");

      WriteControl.Result stop = control.stopWrites(controller);
      assertTrue(stop.ok(), stop.toString());
      assertTrue(stop.changed());
      assertTrue(stop.sessionsEnded() >= 1, "the application's session was ended: " + stop);
      assertTrue(stop.sessionsNotEnded() >= 1, "the superuser's session was left: " + stop);
      assertThrows(SQLException.class, () -> appTx.execute("COMMIT"));
      adminTx.execute("SELECT 1"); // still connected
    }
    SQLException refused =
        assertThrows(SQLException.class, () -> execute(primary, "INSERT INTO lp VALUES (2)"));
    assertEquals("25006", refused.getSQLState(), "read-only transaction");

    WriteControl.Result open = control.allowWrites(controller);
    assertTrue(open.ok(), open.toString());
    assertTrue(open.changed());
    execute(primary, "INSERT INTO lp VALUES (3)");
    assertEquals("off", query(primary, "SHOW default_transaction_read_only"));

    WriteControl.Result again = control.allowWrites(controller);
    assertTrue(again.ok(), again.toString());
    assertFalse(again.changed(), "no stop left: nothing written");
  }

  @Test
  void allowingWritesWhereNoneAreStoppedNeedsNoPrivilege() {
    WriteControl.Result r = control.allowWrites(as(pg.standby(), "pgfo_bare", "bare-password"));
    assertTrue(r.ok(), r.toString());
    assertFalse(r.changed());
  }
}
