package io.pgfailover.probe.internal;

import io.pgfailover.probe.Lsn;
import io.pgfailover.probe.Replica;
import io.pgfailover.probe.Role;
import io.pgfailover.probe.WalReceiver;
import io.pgfailover.probe.WriteCheck;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** The SQL a probe runs, on a connection someone else opened and bounds. */
public final class NodeQueries {

  /** What one reachable node said about itself. */
  public record Observation(
      Role role,
      OptionalLong timeline,
      Optional<Lsn> currentLsn,
      Optional<Lsn> receiveLsn,
      Optional<Lsn> replayLsn,
      Optional<WalReceiver> walReceiver,
      String serverVersion,
      boolean writesStopped,
      String synchronousStandbyNames,
      List<Replica> replicas) {}

  /*
   * One round trip. Timeline sources, and why:
   * - primary: the first 8 hex digits of pg_walfile_name(pg_current_wal_lsn()) are the timeline WAL is being
   *   written on now, set before pg_promote(wait => true) returns. pg_control_checkpoint().timeline_id is the
   *   timeline of the last completed checkpoint: a promotion only requests one (fast promotion, no
   *   end-of-recovery checkpoint), and a spread checkpoint over many dirty buffers can take minutes, so the old
   *   timeline can be reported long after the promotion. PromotionIT checks the timeline right after promoting.
   * - standby: pg_walfile_name() is not allowed during recovery, so received_tli of the WAL receiver (the
   *   timeline of the WAL it streams), else, with no receiver, the newer of the last restartpoint's timeline
   *   and the minimum recovery point's: pg_rewind leaves the last common checkpoint (on the old timeline) in
   *   the control file and sets the minimum recovery point on the source's timeline, and a rewound standby
   *   makes no restartpoint on the new timeline until its primary checkpoints again (minutes); a standby that
   *   answers has reached that point, so its data is on that timeline. Without it a just rejoined standby
   *   whose primary died at once would look a timeline behind and never be promoted.
   * The CASEs keep primary-only functions from running on a standby and vice versa.
   */
  private static final String OBSERVE_SQL =
      """
      SELECT r.in_recovery,
             current_setting('server_version'),
             c.lsn::text,
             CASE WHEN NOT r.in_recovery THEN substr(pg_walfile_name(c.lsn), 1, 8) END,
             CASE WHEN r.in_recovery THEN pg_last_wal_receive_lsn()::text END,
             CASE WHEN r.in_recovery THEN pg_last_wal_replay_lsn()::text END,
             CASE WHEN r.in_recovery THEN GREATEST((SELECT timeline_id FROM pg_control_checkpoint()),
                                                   (SELECT min_recovery_end_timeline
                                                      FROM pg_control_recovery())) END,
             w.pid, w.status, w.received_tli, w.sender_host, w.sender_port,
             (extract(epoch FROM clock_timestamp() - w.last_msg_receipt_time) * 1000)::bigint,
             (SELECT setting = 'on' AND source = 'configuration file'
                FROM pg_settings WHERE name = 'default_transaction_read_only'),
             current_setting('synchronous_standby_names'),
             rep.names, rep.states, rep.sync_states, rep.flushes
        FROM (SELECT pg_is_in_recovery() AS in_recovery) r
       CROSS JOIN LATERAL (SELECT CASE WHEN NOT r.in_recovery THEN pg_current_wal_lsn() END AS lsn) c
        LEFT JOIN pg_stat_wal_receiver w ON true
       CROSS JOIN (SELECT array_agg(application_name ORDER BY application_name) AS names,
                          array_agg(state ORDER BY application_name) AS states,
                          array_agg(sync_state ORDER BY application_name) AS sync_states,
                          array_agg(flush_lsn::text ORDER BY application_name) AS flushes
                     FROM pg_stat_replication) rep
      """;

  private static final String HEARTBEAT_SQL =
      """
      INSERT INTO pgfailover.heartbeat (node, beat_at) VALUES (?, clock_timestamp())
      ON CONFLICT (node) DO UPDATE SET beat_at = excluded.beat_at
      """;

  /*
   * One round trip before the write, in place of a bare SET LOCAL: bound the transaction, and read who owns
   * the heartbeat schema and table. Owned by another role, they could hide a trigger (or a rule, or a view in
   * the table's place) that runs with the controller's rights, which may be a superuser's; so the probe writes
   * only into objects its own login role owns, and creates them when they are missing.
   */
  private static final String PREPARE_SQL =
      """
      SELECT set_config('statement_timeout', ?, true),
             current_user,
             quote_ident(current_user),
             (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'pgfailover'),
             (SELECT pg_get_userbyid(c.relowner)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'pgfailover' AND c.relname = 'heartbeat')
      """;

  // No IF NOT EXISTS: an object another session created since the check above is refused, not used.
  private static final String CREATE_SCHEMA_SQL = "CREATE SCHEMA pgfailover";

  private static final String CREATE_TABLE_SQL =
      "CREATE TABLE pgfailover.heartbeat (node text PRIMARY KEY, beat_at timestamptz NOT NULL)";

  /** duplicate_schema, duplicate_table, unique_violation (two sessions creating at once). */
  private static final java.util.Set<String> CREATED_MEANWHILE =
      java.util.Set.of("42P06", "42P07", "23505");

  private NodeQueries() {}

  public static Observation observe(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(OBSERVE_SQL)) {
      if (!rs.next()) {
        throw new SQLException("probe query returned no row");
      }
      boolean inRecovery = rs.getBoolean(1);
      String version = rs.getString(2);
      Optional<WalReceiver> receiver = walReceiver(rs);
      if (!inRecovery) {
        return new Observation(
            Role.PRIMARY,
            OptionalLong.of(Long.parseLong(rs.getString(4), 16)),
            lsn(rs.getString(3)),
            Optional.empty(),
            Optional.empty(),
            receiver,
            version,
            rs.getBoolean(14),
            rs.getString(15),
            replicas(rs));
      }
      long receivedTli = rs.getLong(10);
      OptionalLong timeline =
          !rs.wasNull() && receivedTli > 0
              ? OptionalLong.of(receivedTli)
              : OptionalLong.of(rs.getLong(7));
      return new Observation(
          Role.STANDBY,
          timeline,
          Optional.empty(),
          lsn(rs.getString(5)),
          lsn(rs.getString(6)),
          receiver,
          version,
          rs.getBoolean(14),
          rs.getString(15),
          replicas(rs));
    }
  }

  /** The primary's pg_stat_replication rows, from the four parallel arrays of the query. */
  private static List<Replica> replicas(ResultSet rs) throws SQLException {
    String[] names = strings(rs, 16);
    String[] states = strings(rs, 17);
    String[] syncStates = strings(rs, 18);
    String[] flushes = strings(rs, 19);
    List<Replica> out = new ArrayList<>(names.length);
    for (int i = 0; i < names.length; i++) {
      out.add(
          new Replica(
              names[i] == null ? "" : names[i],
              states[i] == null ? "" : states[i],
              syncStates[i] == null ? "" : syncStates[i],
              lsn(flushes[i])));
    }
    return out;
  }

  private static String[] strings(ResultSet rs, int column) throws SQLException {
    java.sql.Array a = rs.getArray(column);
    return a == null ? new String[0] : (String[]) a.getArray();
  }

  private static Optional<WalReceiver> walReceiver(ResultSet rs) throws SQLException {
    rs.getInt(8);
    if (rs.wasNull()) {
      return Optional
          .empty(); // no WAL receiver process (a primary, or a standby that lost its primary)
    }
    String status = rs.getString(9);
    if (status == null) {
      // The row exists but its columns are hidden: the probe role lacks pg_read_all_stats (grant
      // pg_monitor).
      throw new SQLException(
          "pg_stat_wal_receiver is hidden from this role; GRANT pg_monitor TO the probe user",
          "42501");
    }
    long sinceMs = rs.getLong(13);
    Optional<Duration> since =
        rs.wasNull() ? Optional.empty() : Optional.of(Duration.ofMillis(Math.max(0, sinceMs)));
    String host = rs.getString(11);
    return Optional.of(
        new WalReceiver(
            status, "streaming".equals(status), host == null ? "" : host, rs.getInt(12), since));
  }

  private static Optional<Lsn> lsn(String text) {
    return text == null ? Optional.empty() : Optional.of(Lsn.parse(text));
  }

  /**
   * Upserts this node's heartbeat row in a transaction bounded by a local {@code
   * statement_timeout}. The transaction is an ordinary one, so a primary with {@code
   * default_transaction_read_only = on} fails it as it would fail the application. The schema and
   * table are created on first use; when another role owns either, nothing is written and the check
   * fails naming the owner and the fix.
   */
  public static WriteCheck writeCheck(Connection c, String node, Duration timeout) {
    try {
      c.setAutoCommit(false);
      try {
        return heartbeat(c, node, timeout);
      } catch (SQLException e) {
        c.rollback();
        if (!CREATED_MEANWHILE.contains(e.getSQLState())) {
          return failed(e);
        }
        // Another session (the peer controller, on first use) created the schema or table since
        // the check: check its owner again.
        return heartbeat(c, node, timeout);
      }
    } catch (SQLException e) {
      try {
        c.rollback();
      } catch (SQLException ignored) {
        // the connection is discarded after the probe anyway
      }
      return failed(e);
    }
  }

  private static WriteCheck heartbeat(Connection c, String node, Duration timeout)
      throws SQLException {
    String user;
    String role;
    String schemaOwner;
    String tableOwner;
    try (PreparedStatement ps = c.prepareStatement(PREPARE_SQL)) {
      ps.setString(1, Long.toString(timeout.toMillis()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        user = rs.getString(2);
        role = rs.getString(3);
        schemaOwner = rs.getString(4);
        tableOwner = rs.getString(5);
      }
    }
    Optional<String> foreign = foreignOwner(user, role, schemaOwner, tableOwner);
    if (foreign.isPresent()) {
      c.rollback();
      return WriteCheck.failed(foreign.get());
    }
    try (Statement s = c.createStatement()) {
      if (schemaOwner == null) {
        s.execute(CREATE_SCHEMA_SQL);
      }
      if (tableOwner == null) {
        s.execute(CREATE_TABLE_SQL);
      }
    }
    try (PreparedStatement ps = c.prepareStatement(HEARTBEAT_SQL)) {
      ps.setString(1, node);
      ps.executeUpdate();
    }
    c.commit();
    // With synchronous replication a commit whose wait is cancelled (here by statement_timeout) is
    // committed
    // locally and only warns: the primary cannot confirm writes, which is what this check is for.
    for (SQLWarning w = c.getWarnings(); w != null; w = w.getNextWarning()) {
      if (String.valueOf(w.getMessage()).contains("synchronous replication")) {
        return WriteCheck.failed(
            "commit not confirmed by a synchronous standby within "
                + timeout.toMillis()
                + " ms: "
                + w.getMessage());
      }
    }
    return WriteCheck.passed();
  }

  /**
   * Why the heartbeat objects must not be written, when a role other than {@code user} owns one.
   *
   * @param role {@code user} quoted for SQL
   */
  private static Optional<String> foreignOwner(
      String user, String role, String schemaOwner, String tableOwner) {
    boolean foreignSchema = schemaOwner != null && !schemaOwner.equals(user);
    boolean foreignTable = tableOwner != null && !tableOwner.equals(user);
    if (!foreignSchema && !foreignTable) {
      return Optional.empty();
    }
    String alterTable = "ALTER TABLE pgfailover.heartbeat OWNER TO " + role;
    return Optional.of(
        (foreignSchema
                ? "heartbeat schema pgfailover belongs to role " + schemaOwner
                : "heartbeat table pgfailover.heartbeat belongs to role " + tableOwner)
            + ", not to "
            + user
            + " (the controller's login role): not writing, since its owner could make the write"
            + " run code as the controller. Fix: "
            + (foreignSchema
                ? "ALTER SCHEMA pgfailover OWNER TO "
                    + role
                    + (foreignTable ? "; " + alterTable : "")
                    + " (or DROP SCHEMA pgfailover CASCADE: the controller re-creates it)"
                : alterTable
                    + " (or DROP TABLE pgfailover.heartbeat: the controller re-creates it)"));
  }

  private static WriteCheck failed(SQLException e) {
    return WriteCheck.failed(describe(e));
  }

  /** "SQLSTATE 25006: message" without the driver's stack of causes. */
  public static String describe(Throwable e) {
    if (e instanceof SQLException sql && sql.getSQLState() != null) {
      return "SQLSTATE " + sql.getSQLState() + ": " + sql.getMessage();
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage();
  }
}
