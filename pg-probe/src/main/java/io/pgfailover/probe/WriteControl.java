package io.pgfailover.probe;

import io.pgfailover.probe.internal.NodeQueries;
import io.pgfailover.probe.internal.ProbeConnections;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stopping and resuming writes on a primary, and waiting for a standby to replay up to a position:
 * the steps of a switchover that loses nothing. Results are values, never exceptions; every call is
 * bounded.
 *
 * <p>Writes are stopped with {@code ALTER SYSTEM SET default_transaction_read_only = on}, a reload,
 * and the end of every client session: their open transactions roll back, so no acknowledged commit
 * is lost, and new sessions start read-only. (A client that explicitly turns read-only off again is
 * not stopped; the route moves away from this node right after.) The setting persists in {@code
 * postgresql.auto.conf}, so a restart does not silently re-open writes; {@link #allowWrites}
 * removes it, and promotion calls it on the new primary.
 */
public final class WriteControl {
  private static final Logger log = LoggerFactory.getLogger(WriteControl.class);
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final Duration callBudget;

  /**
   * @param callBudget bound for one connect + statements (the catch-up wait has its own timeout)
   */
  public WriteControl(Duration callBudget) {
    this.callBudget = callBudget;
  }

  /**
   * What a write-control step did. {@code lsn}: the primary's WAL position after the step, when
   * read. {@code sessionsNotEnded}: superuser sessions a role without superuser could not end.
   */
  public record Result(
      boolean ok,
      boolean changed,
      Optional<Lsn> lsn,
      int sessionsEnded,
      int sessionsNotEnded,
      Optional<String> error) {
    static Result failed(String error) {
      return new Result(false, false, Optional.empty(), 0, 0, Optional.of(error));
    }
  }

  /**
   * Ends every other client session this role may end: all of them as a superuser; as a member of
   * {@code pg_signal_backend}, all but superusers' (PostgreSQL refuses those, and one refusal would
   * fail the whole statement). CASE keeps the terminate call from running for a skipped session.
   */
  private static final String END_SESSIONS_SQL =
      """
      SELECT count(*) FILTER (WHERE CASE WHEN may_end THEN pg_terminate_backend(pid) END),
             count(*) FILTER (WHERE NOT may_end)
        FROM (SELECT a.pid,
                     (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                       OR NOT coalesce(r.rolsuper, false) AS may_end
                FROM pg_stat_activity a
                LEFT JOIN pg_roles r ON r.oid = a.usesysid
               WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()) s
      """;

  /**
   * Whether the server's configuration files stop writes: the stop lives in postgresql.auto.conf,
   * which {@code pg_settings.source} names "configuration file". Readable by every role, unlike
   * {@code pg_file_settings}.
   */
  private static final String STOPPED_SQL =
      """
      SELECT (setting = 'on' AND source = 'configuration file')::text
        FROM pg_settings WHERE name = 'default_transaction_read_only'
      """;

  /**
   * Makes a primary refuse writes and ends client sessions. Idempotent: a second call reports
   * {@code changed=false} (it may still end a session that opened meanwhile, read-only). Needs
   * {@code ALTER SYSTEM} on {@code default_transaction_read_only}, {@code EXECUTE} on {@code
   * pg_reload_conf()} and {@code pg_signal_backend} (config/roles.sql grants them).
   */
  public Result stopWrites(NodeEndpoint primary) {
    try (Connection c = ProbeConnections.open(primary, callBudget);
        Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      boolean wasReadOnly = query(s, STOPPED_SQL).equals("true");
      if (query(s, "SELECT pg_is_in_recovery()::text").equals("true")) {
        return Result.failed(primary.name() + " is a standby, not a primary: nothing to stop");
      }
      s.execute("ALTER SYSTEM SET default_transaction_read_only = on");
      s.execute("SELECT pg_reload_conf()");
      awaitSetting(primary, "default_transaction_read_only", "on");
      int ended;
      int notEnded;
      try (ResultSet rs = s.executeQuery(END_SESSIONS_SQL)) {
        rs.next();
        ended = rs.getInt(1);
        notEnded = rs.getInt(2);
      }
      Lsn lsn = Lsn.parse(query(s, "SELECT pg_current_wal_lsn()::text"));
      if (notEnded > 0) {
        // Their new transactions are read-only after the reload, but one already open may still
        // commit: applications must not log in as superusers (README, switchover).
        log.warn(
            "event=superuser_sessions_not_ended node={} sessions={}", primary.name(), notEnded);
      }
      log.info(
          "event=writes_stopped node={} sessions_ended={} sessions_not_ended={} lsn={}"
              + " was_stopped={}",
          primary.name(),
          ended,
          notEnded,
          lsn,
          wasReadOnly);
      return new Result(true, !wasReadOnly, Optional.of(lsn), ended, notEnded, Optional.empty());
    } catch (SQLException | RuntimeException e) {
      return Result.failed(
          "stopping writes on " + primary.name() + " failed: " + NodeQueries.describe(e));
    }
  }

  /**
   * Removes a write stop (primary or standby alike). Idempotent: a node without a stop is left
   * untouched, so this needs no privilege unless there is a stop to remove.
   */
  public Result allowWrites(NodeEndpoint node) {
    try (Connection c = ProbeConnections.open(node, callBudget);
        Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      if (!query(s, STOPPED_SQL).equals("true")) {
        return new Result(true, false, Optional.empty(), 0, 0, Optional.empty());
      }
      s.execute("ALTER SYSTEM RESET default_transaction_read_only");
      s.execute("SELECT pg_reload_conf()");
      awaitSetting(node, "default_transaction_read_only", "off");
      log.info("event=writes_allowed node={}", node.name());
      return new Result(true, true, Optional.empty(), 0, 0, Optional.empty());
    } catch (SQLException | RuntimeException e) {
      return Result.failed(
          "allowing writes on " + node.name() + " failed: " + NodeQueries.describe(e));
    }
  }

  /**
   * Sets {@code synchronous_standby_names} on a primary to {@code names} ({@code ""}: none), then
   * waits until new sessions see it. Idempotent: a primary that has it already is not written to.
   * Needs {@code ALTER SYSTEM} on that parameter and {@code EXECUTE} on {@code pg_reload_conf()}
   * (config/roles.sql grants both).
   */
  public Result setSynchronousStandbyNames(NodeEndpoint primary, String names) {
    try (Connection c = ProbeConnections.open(primary, callBudget);
        Statement s = c.createStatement()) {
      c.setAutoCommit(true);
      if (query(s, "SHOW synchronous_standby_names").equals(names)) {
        return new Result(true, false, Optional.empty(), 0, 0, Optional.empty());
      }
      // ALTER SYSTEM takes no bind parameters: the value is a quoted literal.
      s.execute(
          names.isEmpty()
              ? "ALTER SYSTEM RESET synchronous_standby_names"
              : "ALTER SYSTEM SET synchronous_standby_names = '" + names.replace("'", "''") + "'");
      s.execute("SELECT pg_reload_conf()");
      awaitSetting(primary, "synchronous_standby_names", names);
      log.info("event=synchronous_standbys_set node={} names='{}'", primary.name(), names);
      return new Result(true, true, Optional.empty(), 0, 0, Optional.empty());
    } catch (SQLException | RuntimeException e) {
      return Result.failed(
          "setting synchronous_standby_names on "
              + primary.name()
              + " failed: "
              + NodeQueries.describe(e));
    }
  }

  /** The primary's current WAL write position. */
  public Optional<Lsn> currentLsn(NodeEndpoint primary) {
    try (Connection c = ProbeConnections.open(primary, callBudget);
        Statement s = c.createStatement()) {
      return Optional.of(Lsn.parse(query(s, "SELECT pg_current_wal_lsn()::text")));
    } catch (SQLException | RuntimeException e) {
      return Optional.empty();
    }
  }

  /**
   * Waits until {@code standby} has replayed WAL up to {@code target}, polling within {@code
   * timeout}.
   */
  public Result awaitReplay(NodeEndpoint standby, Lsn target, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    String last = "not asked yet";
    try (Connection c = ProbeConnections.open(standby, callBudget);
        Statement s = c.createStatement()) {
      while (true) {
        String replayed = query(s, "SELECT coalesce(pg_last_wal_replay_lsn()::text, '0/0')");
        Lsn lsn = Lsn.parse(replayed);
        if (lsn.compareTo(target) >= 0) {
          log.info(
              "event=standby_caught_up node={} replay_lsn={} target={}",
              standby.name(),
              lsn,
              target);
          return new Result(true, true, Optional.of(lsn), 0, 0, Optional.empty());
        }
        last = replayed;
        if (System.nanoTime() > end) {
          return new Result(
              false,
              false,
              Optional.of(lsn),
              0,
              0,
              Optional.of(
                  standby.name()
                      + " replayed only up to "
                      + lsn
                      + " of "
                      + target
                      + " within "
                      + timeout.toMillis()
                      + " ms"));
        }
        LockSupport.parkNanos(POLL_NANOS);
      }
    } catch (SQLException | RuntimeException e) {
      return Result.failed(
          "waiting for "
              + standby.name()
              + " to replay "
              + target
              + " failed (last seen "
              + last
              + "): "
              + NodeQueries.describe(e));
    }
  }

  /**
   * New sessions must see the setting before client sessions are ended, or a reconnect could still
   * write.
   */
  private void awaitSetting(NodeEndpoint node, String parameter, String expected)
      throws SQLException {
    long end = System.nanoTime() + callBudget.toNanos();
    while (true) {
      try (Connection c = ProbeConnections.open(node, callBudget);
          Statement s = c.createStatement()) {
        if (query(s, "SHOW " + parameter).equals(expected)) {
          return;
        }
      }
      if (System.nanoTime() > end) {
        throw new SQLException(
            "the reload did not apply "
                + parameter
                + "="
                + expected
                + " within "
                + callBudget.toMillis()
                + " ms");
      }
      LockSupport.parkNanos(POLL_NANOS);
    }
  }

  private static String query(Statement s, String sql) throws SQLException {
    try (ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
