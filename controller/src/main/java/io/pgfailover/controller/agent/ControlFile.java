package io.pgfailover.controller.agent;

import io.pgfailover.controller.port.NodeAgents.ControlData;
import io.pgfailover.probe.Role;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What {@code pg_controldata} printed (run with {@code LC_ALL=C}, so the labels are English).
 *
 * @param state "in production", "shut down", "in archive recovery", "shut down in recovery", ...
 * @param checkpointTimeline "Latest checkpoint's TimeLineID"
 * @param minRecoveryTimeline "Min recovery ending loc's timeline" (0 when none)
 * @param dataChecksums "Data page checksum version" is not 0
 */
record ControlFile(
    String state,
    long checkpointTimeline,
    String checkpointLsn,
    long minRecoveryTimeline,
    boolean dataChecksums,
    boolean walLogHints) {

  static final String STATE = "Database cluster state";
  static final String CHECKPOINT_LSN = "Latest checkpoint location";
  static final String CHECKPOINT_TIMELINE = "Latest checkpoint's TimeLineID";
  static final String MIN_RECOVERY_TIMELINE = "Min recovery ending loc's timeline";
  static final String CHECKSUMS = "Data page checksum version";
  static final String WAL_LOG_HINTS = "wal_log_hints setting";

  /**
   * Parses pg_controldata's "Label: value" lines; empty when a line the agent needs is missing
   * (another version's labels, or an error message instead of the output).
   */
  static Optional<ControlFile> parse(String output) {
    Map<String, String> fields = new HashMap<>();
    for (String line : output.split("\n")) {
      int colon = line.indexOf(':');
      if (colon > 0) {
        fields.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
    }
    try {
      return Optional.of(
          new ControlFile(
              required(fields, STATE),
              Long.parseLong(required(fields, CHECKPOINT_TIMELINE)),
              required(fields, CHECKPOINT_LSN),
              Long.parseLong(fields.getOrDefault(MIN_RECOVERY_TIMELINE, "0")),
              !required(fields, CHECKSUMS).equals("0"),
              required(fields, WAL_LOG_HINTS).equals("on")));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  private static String required(Map<String, String> fields, String label) {
    String v = fields.get(label);
    if (v == null) {
      throw new IllegalArgumentException("no \"" + label + "\" line");
    }
    return v;
  }

  /** Shut down without needing crash recovery. */
  boolean cleanShutdown() {
    return state.equals("shut down") || state.equals("shut down in recovery");
  }

  /**
   * What the server was when it last wrote its control file: a primary ("in production", "shut
   * down", "shutting down"), a standby ("in archive recovery", "shut down in recovery"), else
   * unknown ("in crash recovery", "starting up": it crashed before it knew).
   */
  Role lastRole() {
    return switch (state) {
      case "in production", "shut down", "shutting down" -> Role.PRIMARY;
      case "in archive recovery", "shut down in recovery" -> Role.STANDBY;
      default -> Role.UNKNOWN;
    };
  }

  ControlData facts() {
    return new ControlData(
        state, checkpointTimeline, checkpointLsn, cleanShutdown(), dataChecksums, walLogHints);
  }
}
