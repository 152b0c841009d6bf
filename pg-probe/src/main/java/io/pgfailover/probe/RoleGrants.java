package io.pgfailover.probe;

import io.pgfailover.probe.internal.NodeQueries;
import io.pgfailover.probe.internal.ProbeConnections;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Which of the controller's privileges its login role lacks on one server: what {@code failoverctl
 * preflight} reports, each with the GRANT that fixes it (config/roles.sql grants them all).
 *
 * @param role the login role checked
 * @param superuser a superuser lacks nothing (and should be replaced by the least-privileged role)
 * @param missing what the role cannot do, with the fix; empty when it can do everything
 * @param error why the check could not run (unreachable, too old a server); empty when it ran
 */
public record RoleGrants(
    String role, boolean superuser, List<Missing> missing, Optional<String> error) {

  /** One privilege the controller needs and the role lacks. */
  public record Missing(String needed, String grant) {}

  public RoleGrants {
    missing = List.copyOf(missing);
  }

  /** What the controller needs, in the order preflight prints it. */
  private static final String SQL =
      """
      SELECT current_user,
             r.rolsuper,
             current_setting('server_version_num')::int >= 150000,
             pg_has_role(current_user, 'pg_monitor', 'USAGE'),
             has_function_privilege('pg_promote(boolean, integer)', 'EXECUTE'),
             has_function_privilege('pg_reload_conf()', 'EXECUTE'),
             pg_has_role(current_user, 'pg_signal_backend', 'USAGE')
        FROM pg_roles r WHERE r.rolname = current_user
      """;

  /** Asked only of PostgreSQL 15 or newer, where the function exists. */
  private static final String ALTER_SYSTEM_SQL =
      "SELECT has_parameter_privilege('default_transaction_read_only', 'ALTER SYSTEM'),"
          + " has_parameter_privilege('synchronous_standby_names', 'ALTER SYSTEM')";

  /** Checks {@code node}'s login role on its server, within {@code budget}. Never throws. */
  public static RoleGrants check(NodeEndpoint node, Duration budget) {
    try (Connection c = ProbeConnections.open(node, budget);
        Statement s = c.createStatement()) {
      String role;
      boolean superuser;
      boolean pg15;
      List<Missing> missing = new ArrayList<>();
      try (ResultSet rs = s.executeQuery(SQL)) {
        rs.next();
        role = rs.getString(1);
        superuser = rs.getBoolean(2);
        pg15 = rs.getBoolean(3);
        if (superuser) {
          return new RoleGrants(role, true, List.of(), Optional.empty());
        }
        need(
            missing, rs.getBoolean(4), "read the replication views", "GRANT pg_monitor TO " + role);
        need(
            missing,
            rs.getBoolean(5),
            "promote a standby",
            "GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO " + role);
        need(
            missing,
            rs.getBoolean(6),
            "reload the configuration after a write stop",
            "GRANT EXECUTE ON FUNCTION pg_reload_conf() TO " + role);
        need(
            missing,
            rs.getBoolean(7),
            "end client sessions when stopping writes",
            "GRANT pg_signal_backend TO " + role);
      }
      if (!pg15) {
        missing.add(
            new Missing(
                "stop writes for a switchover (ALTER SYSTEM needs a superuser before"
                    + " PostgreSQL 15)",
                "upgrade to PostgreSQL 15 or newer, or log in as a superuser"));
      } else {
        try (ResultSet rs = s.executeQuery(ALTER_SYSTEM_SQL)) {
          rs.next();
          need(
              missing,
              rs.getBoolean(1),
              "stop writes for a switchover",
              "GRANT ALTER SYSTEM ON PARAMETER default_transaction_read_only TO " + role);
          need(
              missing,
              rs.getBoolean(2),
              "manage synchronous replication (replication: {mode: sync})",
              "GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO " + role);
        }
      }
      return new RoleGrants(role, false, missing, Optional.empty());
    } catch (SQLException | RuntimeException e) {
      return new RoleGrants(node.user(), false, List.of(), Optional.of(NodeQueries.describe(e)));
    }
  }

  private static void need(List<Missing> missing, boolean has, String needed, String grant) {
    if (!has) {
      missing.add(new Missing(needed, grant));
    }
  }
}
