package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Step;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.lab.Lab;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.DatabaseRoles;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failover and switchover with the controller logged in as the role config/roles.sql creates (the
 * stack applies the same file), never as a superuser; and the split brain of a re-enable that fails
 * after a promotion (issue 10, item 1), on the real pair.
 */
class LeastPrivilegeIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  static final String CONTROLLER_PW = "least-privilege-it";

  /** The stack's grants before this fix: it could promote but not stop or allow writes. */
  static final String PROMOTE_ONLY = "pgfo_promote_only";

  @TempDir Path dir;
  LabCluster lab;

  @BeforeAll
  static void roles() {
    DatabaseRoles.apply(pg.pair(), CONTROLLER_PW, "replication-it");
    pg.pair()
        .psql(
            pg.primary(),
            "DROP ROLE IF EXISTS "
                + PROMOTE_ONLY
                + ";\nCREATE ROLE "
                + PROMOTE_ONLY
                + " LOGIN PASSWORD '"
                + CONTROLLER_PW
                + "';\nGRANT pg_monitor TO "
                + PROMOTE_ONLY
                + ";\nGRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO "
                + PROMOTE_ONLY
                + ";\n");
  }

  @AfterEach
  void close() throws Exception {
    if (lab != null) {
      lab.close();
    }
    // The next test starts from a pair without write stops (a re-made standby copies its
    // primary's postgresql.auto.conf).
    for (PgNode n : pg.nodes()) {
      if (n.isRunning()) {
        pg.pair()
            .psql(
                n, "ALTER SYSTEM RESET default_transaction_read_only;\nSELECT pg_reload_conf();\n");
      }
    }
  }

  Map<String, LabConfig.Login> logins(String primaryUser, String standbyUser) throws Exception {
    Path password = Lab.secret(dir.resolve("controller-pw"), CONTROLLER_PW);
    Path superuser = Lab.secret(dir.resolve("superuser-pw"), PostgresPair.SUPERUSER_PASSWORD);
    LabCluster.healthyPair(pg.pair());
    return Map.of(
        "pg-" + pg.primary().name(), login(primaryUser, password, superuser),
        "pg-" + pg.standby().name(), login(standbyUser, password, superuser));
  }

  static LabConfig.Login login(String user, Path password, Path superuserPassword) {
    return new LabConfig.Login(
        user, user.equals(PostgresPair.SUPERUSER) ? superuserPassword : password);
  }

  @Test
  void aSwitchoverAsTheRolesFileRoleMovesWritesAndPreflightFindsNothingMissing() throws Exception {
    lab =
        new LabCluster(
            pg.pair(),
            aws,
            dir,
            LabConfig.DEFAULT_FAILOVER,
            Map.of(),
            logins(DatabaseRoles.CONTROLLER, DatabaseRoles.CONTROLLER));
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    ManualIT.Cli preflight = ManualIT.cli("preflight", "-c", lab.configFile.toString());
    for (PgNode n : List.of(primary, standby)) {
      String line = "role pgfailover on " + lab.name(n);
      assertTrue(
          preflight.out().contains(line) && !preflight.out().contains("FAIL  " + line),
          preflight.out());
    }
    assertTrue(
        preflight.out().contains("has every privilege the controller uses"), preflight.out());

    ControlLoop loop = lab.start();
    lab.awaitDecision("a healthy loop", Duration.ofSeconds(30), LeastPrivilegeIT::healthy);
    LoopReport done =
        loop.submit(new Request.Switchover(lab.name(standby))).get(120, TimeUnit.SECONDS);
    assertEquals(Reason.SWITCHOVER, done.decision().reason(), done.decision().message());
    assertTrue(done.ok(), done.steps().toString());
    assertTrue(lab.routesOn(lab.name(standby)), lab.routeTargets().toString());
    assertEquals(List.of(standby), writablePrimaries(), "only the new primary takes writes");
  }

  @Test
  void anAutomaticFailoverAsTheRolesFileRole() throws Exception {
    lab =
        new LabCluster(
            pg.pair(),
            aws,
            dir,
            LabConfig.DEFAULT_FAILOVER,
            Map.of(),
            logins(DatabaseRoles.CONTROLLER, DatabaseRoles.CONTROLLER));
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    lab.start();
    lab.awaitDecision("a healthy loop", Duration.ofSeconds(30), LeastPrivilegeIT::healthy);
    pg.kill(primary);
    lab.awaitDecision(
        "the failover to " + lab.name(standby),
        Duration.ofSeconds(60),
        r -> r.decision().reason() == Reason.FAILOVER && r.ok());
    assertTrue(lab.routesOn(lab.name(standby)), lab.routeTargets().toString());
    assertEquals(List.of(standby), writablePrimaries());
  }

  /**
   * The reproduction: a superuser on the primary, and on the standby a role that may
   * promote but has no other rights. Before the fix, re-enabling writes on the promoted standby
   * read pg_file_settings (denied), the promotion was reported failed, writes came back on the old
   * primary, and both nodes took writes with the routes on the old one.
   */
  @Test
  void aSwitchoverToAStandbyWhoseRoleCannotTouchSettingsCompletes() throws Exception {
    lab =
        new LabCluster(
            pg.pair(),
            aws,
            dir,
            LabConfig.DEFAULT_FAILOVER,
            Map.of(),
            logins(PostgresPair.SUPERUSER, PROMOTE_ONLY));
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    ControlLoop loop = lab.start();
    lab.awaitDecision("a healthy loop", Duration.ofSeconds(30), LeastPrivilegeIT::healthy);
    LoopReport done =
        loop.submit(new Request.Switchover(lab.name(standby))).get(120, TimeUnit.SECONDS);
    assertEquals(List.of(standby), writablePrimaries(), done.steps().toString());
    assertTrue(done.ok(), done.steps().toString());
    assertTrue(lab.routesOn(lab.name(standby)), lab.routeTargets().toString());
  }

  /**
   * When removing a write stop from the new primary does fail (here it carries one and its role may
   * not remove it), the old primary's stop stays: both read-only rather than both writable, and the
   * routes on the new timeline.
   */
  @Test
  void aNewPrimaryWhoseWriteStopCannotBeRemovedNeverMakesTwoWritablePrimaries() throws Exception {
    lab =
        new LabCluster(
            pg.pair(),
            aws,
            dir,
            LabConfig.DEFAULT_FAILOVER,
            Map.of(),
            logins(PostgresPair.SUPERUSER, PROMOTE_ONLY));
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    pg.pair()
        .psql(
            standby,
            "ALTER SYSTEM SET default_transaction_read_only = on;\nSELECT pg_reload_conf();\n");
    ControlLoop loop = lab.start();
    lab.awaitDecision("a healthy loop", Duration.ofSeconds(30), LeastPrivilegeIT::healthy);
    LoopReport done =
        loop.submit(new Request.Switchover(lab.name(standby))).get(120, TimeUnit.SECONDS);
    assertEquals(List.of(), writablePrimaries(), "both read-only: " + done.steps());
    assertFalse(done.ok(), done.steps().toString());
    assertTrue(
        done.steps().stream()
            .anyMatch(s -> s.action().equals("allow_writes") && s.status() == Step.Status.FAILED),
        done.steps().toString());
    assertTrue(lab.routesOn(lab.name(standby)), "routes on the new timeline");

    LoopReport next =
        lab.awaitDecision(
            "the next loop's view", Duration.ofSeconds(30), r -> r.at().isAfter(done.at()));
    assertTrue(next.decision().message().contains(lab.name(standby)), next.decision().message());
    assertTrue(lab.routesOn(lab.name(standby)), lab.routeTargets().toString());
    assertEquals(List.of(), writablePrimaries());
  }

  static boolean healthy(LoopReport r) {
    return r.decision().reason() == Reason.HEALTHY;
  }

  /** Nodes that are primaries and take writes, asked as the superuser. */
  static List<PgNode> writablePrimaries() throws Exception {
    List<PgNode> writable = new ArrayList<>();
    for (PgNode n : pg.nodes()) {
      if (!n.isRunning()) {
        continue;
      }
      try (Connection c = n.connect();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT NOT pg_is_in_recovery()"
                      + " AND current_setting('default_transaction_read_only') = 'off'")) {
        rs.next();
        if (rs.getBoolean(1)) {
          writable.add(n);
        }
      }
    }
    return writable;
  }
}
