package io.pgfailover.probe;

import java.time.Duration;
import java.util.Objects;

/**
 * How a probe behaves.
 *
 * @param deadline bound on one whole probe: connect, login, queries and write check (default 1 s)
 * @param writeCheckTimeout {@code statement_timeout} for the heartbeat write; shorter than {@code
 *     deadline} because it runs inside it (default 500 ms)
 * @param writeCheck whether to write a heartbeat row on a primary (default off: it needs CREATE on
 *     the database or a pre-created {@code pgfailover} schema)
 */
public record ProbeSettings(Duration deadline, Duration writeCheckTimeout, boolean writeCheck) {

  public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(1);
  public static final Duration DEFAULT_WRITE_CHECK_TIMEOUT = Duration.ofMillis(500);

  /** Below this, connect plus one SCRAM login on a LAN does not fit. */
  public static final Duration MIN_DEADLINE = Duration.ofMillis(50);

  public static final Duration MAX_DEADLINE = Duration.ofMinutes(5);

  public ProbeSettings {
    Objects.requireNonNull(deadline, "deadline must be set, e.g. PT1S");
    Objects.requireNonNull(writeCheckTimeout, "writeCheckTimeout must be set, e.g. PT0.5S");
    if (deadline.compareTo(MIN_DEADLINE) < 0 || deadline.compareTo(MAX_DEADLINE) > 0) {
      throw new IllegalArgumentException(
          "deadline "
              + deadline
              + " is out of range: use between "
              + MIN_DEADLINE
              + " and "
              + MAX_DEADLINE);
    }
    if (writeCheckTimeout.isNegative() || writeCheckTimeout.isZero()) {
      throw new IllegalArgumentException(
          "writeCheckTimeout " + writeCheckTimeout + " must be positive, e.g. PT0.5S");
    }
    if (writeCheckTimeout.toMillis() < 1) {
      throw new IllegalArgumentException(
          "writeCheckTimeout "
              + writeCheckTimeout
              + " is below statement_timeout's 1 ms resolution");
    }
    // Only a write check that runs must fit inside the deadline (an agent's witness probes with
    // deadlines of 500 ms and less and no write check).
    if (writeCheck && writeCheckTimeout.compareTo(deadline) >= 0) {
      throw new IllegalArgumentException(
          "writeCheckTimeout "
              + writeCheckTimeout
              + " must be shorter than deadline "
              + deadline
              + " because the write check runs inside the probe deadline; lower writeCheckTimeout"
              + " or raise deadline");
    }
  }

  /** Deadline 1 s, write check off (timeout 500 ms when turned on). */
  public static ProbeSettings defaults() {
    return new ProbeSettings(DEFAULT_DEADLINE, DEFAULT_WRITE_CHECK_TIMEOUT, false);
  }

  public ProbeSettings withWriteCheck(boolean enabled) {
    return new ProbeSettings(deadline, writeCheckTimeout, enabled);
  }

  public ProbeSettings withWriteCheckTimeout(Duration timeout) {
    return new ProbeSettings(deadline, timeout, writeCheck);
  }

  public ProbeSettings withDeadline(Duration newDeadline) {
    return new ProbeSettings(newDeadline, writeCheckTimeout, writeCheck);
  }
}
