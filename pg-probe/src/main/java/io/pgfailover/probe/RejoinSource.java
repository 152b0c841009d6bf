package io.pgfailover.probe;

import io.pgfailover.probe.internal.NodeQueries;
import io.pgfailover.probe.internal.ProbeConnections;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readies a new primary to be the source of a node that rejoins it (pg_rewind or pg_basebackup,
 * then streaming), over one connection as the replication role. Bounded by the budget given to
 * {@link #prepare} (the driver's connect and socket timeouts, and {@code statement_timeout} on the
 * server); never throws: every outcome is a {@link Preparation}.
 */
public final class RejoinSource {
  private static final Logger log = LoggerFactory.getLogger(RejoinSource.class);

  /** PostgreSQL's rule for slot names. */
  public static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

  /**
   * The live role and timeline the replication role can read (it cannot see pg_stat_wal_receiver,
   * so not {@link PgProbe}'s query): the timeline of the WAL a primary writes now.
   */
  private static final String PRIMARY_TIMELINE_SQL =
      "SELECT pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() THEN ('x' ||"
          + " substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint END";

  private RejoinSource() {}

  /**
   * What a look at the source found, changing nothing there.
   *
   * @param answered it answered the query (else {@code error} says why)
   * @param timeline its live timeline, when it is a primary
   */
  public record Look(
      boolean answered, boolean primary, OptionalLong timeline, Optional<String> error) {}

  /** Whether the source answers, as a primary, and on which timeline. Never throws. */
  public static Look look(NodeEndpoint source, Duration budget) {
    try (Connection c = ProbeConnections.open(source, budget);
        Statement s = c.createStatement()) {
      return look(s);
    } catch (SQLException | RuntimeException e) {
      return new Look(false, false, OptionalLong.empty(), Optional.of(NodeQueries.describe(e)));
    }
  }

  private static Look look(Statement s) throws SQLException {
    try (ResultSet rs = s.executeQuery(PRIMARY_TIMELINE_SQL)) {
      rs.next();
      boolean recovery = rs.getBoolean(1);
      long timeline = rs.getLong(2);
      return new Look(
          true,
          !recovery,
          recovery ? OptionalLong.empty() : OptionalLong.of(timeline),
          Optional.empty());
    }
  }

  /**
   * What {@link #prepare} found and did.
   *
   * @param timeline the source's live timeline, when it answered as a primary
   * @param checkpointed a CHECKPOINT was run to bring its control file onto that timeline
   * @param slotCreated the slot was absent and was created
   * @param clusterBytes the sum of the sizes of the databases this role may connect to
   * @param error why the source is not ready; empty when {@code ok}
   */
  public record Preparation(
      boolean ok,
      OptionalLong timeline,
      boolean checkpointed,
      boolean slotCreated,
      OptionalLong clusterBytes,
      Optional<String> error) {

    static Preparation failed(OptionalLong timeline, boolean checkpointed, String error) {
      return new Preparation(
          false, timeline, checkpointed, false, OptionalLong.empty(), Optional.of(error));
    }
  }

  /**
   * In order, stopping at the first that fails:
   *
   * <ol>
   *   <li>the source is a primary on exactly {@code expectTimeline} (its live timeline: the one it
   *       writes WAL on now);
   *   <li>its last checkpoint is on that timeline. pg_rewind reads the source's timeline from its
   *       control file, which a promotion does not update until its first checkpoint (spread over
   *       minutes on a busy server): against a source still showing the old timeline it reports "no
   *       rewind required" and the node then fails to follow. So a checkpoint is asked for ({@code
   *       CHECKPOINT}: superuser or {@code pg_checkpoint}, PostgreSQL 15) and the control file read
   *       again;
   *   <li>the physical slot {@code slot} exists, created reserving WAL from now when absent, so the
   *       source keeps what the rejoined node will stream;
   *   <li>the cluster's size is read, for a reclone's free-space check.
   * </ol>
   */
  public static Preparation prepare(
      NodeEndpoint source, long expectTimeline, String slot, Duration budget) {
    if (!SLOT_NAME.matcher(slot).matches()) {
      return Preparation.failed(
          OptionalLong.empty(),
          false,
          "\"" + slot + "\" is not a slot name (lower-case letters, digits and _, up to 63)");
    }
    OptionalLong timeline = OptionalLong.empty();
    boolean checkpointed = false;
    try (Connection c = ProbeConnections.open(source, budget);
        Statement s = c.createStatement()) {
      Look o = look(s);
      timeline = o.timeline();
      if (!o.primary()) {
        return Preparation.failed(
            timeline, false, source.name() + " is not a primary (it is in recovery)");
      }
      if (timeline.isEmpty() || timeline.getAsLong() != expectTimeline) {
        return Preparation.failed(
            timeline,
            false,
            source.name()
                + " is a primary on timeline "
                + timeline
                + ", not on the expected timeline "
                + expectTimeline);
      }
      if (checkpointTimeline(s) != expectTimeline) {
        s.execute("CHECKPOINT");
        checkpointed = true;
        long after = checkpointTimeline(s);
        if (after != expectTimeline) {
          return Preparation.failed(
              timeline,
              true,
              source.name()
                  + "'s last checkpoint is still on timeline "
                  + after
                  + " after CHECKPOINT; pg_rewind would read the wrong timeline");
        }
      }
      boolean created = ensureSlot(c, slot);
      long bytes = clusterBytes(s);
      log.info(
          "event=rejoin_source_ready source={} timeline={} checkpointed={} slot={} slot_created={}"
              + " cluster_bytes={}",
          source.name(),
          expectTimeline,
          checkpointed,
          slot,
          created,
          bytes);
      return new Preparation(
          true, timeline, checkpointed, created, OptionalLong.of(bytes), Optional.empty());
    } catch (SQLException | RuntimeException e) {
      String why = "preparing " + source.name() + " as the rejoin source failed: ";
      if ("42501".equals(e instanceof SQLException sql ? sql.getSQLState() : null)) {
        why += "the replication role lacks a privilege (config/roles.sql grants it): ";
      }
      return Preparation.failed(timeline, checkpointed, why + NodeQueries.describe(e));
    }
  }

  private static long checkpointTimeline(Statement s) throws SQLException {
    try (ResultSet rs = s.executeQuery("SELECT timeline_id FROM pg_control_checkpoint()")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** True when it created the slot; a slot created meanwhile by someone else counts as there. */
  private static boolean ensureSlot(Connection c, String slot) throws SQLException {
    try (PreparedStatement ps =
        c.prepareStatement(
            "SELECT count(*) FROM (SELECT pg_create_physical_replication_slot(?, true)"
                + " WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = ?)) s")) {
      ps.setString(1, slot);
      ps.setString(2, slot);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1) == 1;
      }
    } catch (SQLException e) {
      if ("42710".equals(e.getSQLState())) { // duplicate_object: created between check and create
        return false;
      }
      throw e;
    }
  }

  private static long clusterBytes(Statement s) throws SQLException {
    try (ResultSet rs =
        s.executeQuery(
            "SELECT coalesce(sum(pg_database_size(oid)), 0) FROM pg_database"
                + " WHERE has_database_privilege(oid, 'CONNECT')")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}
