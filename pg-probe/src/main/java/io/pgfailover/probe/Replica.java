package io.pgfailover.probe;

import java.util.Objects;
import java.util.Optional;

/**
 * One standby connected to a primary, from the primary's {@code pg_stat_replication}.
 *
 * @param applicationName the standby's {@code application_name} (its node name, when its {@code
 *     primary_conninfo} says so)
 * @param state {@code startup}, {@code catchup}, {@code streaming}, ...
 * @param syncState {@code async}, {@code potential}, {@code sync} or {@code quorum}
 * @param flushLsn the last WAL position the standby flushed to disk, as it reported it
 */
public record Replica(
    String applicationName, String state, String syncState, Optional<Lsn> flushLsn) {
  public Replica {
    Objects.requireNonNull(applicationName, "applicationName");
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(syncState, "syncState");
    Objects.requireNonNull(flushLsn, "flushLsn");
  }

  public boolean streaming() {
    return "streaming".equals(state);
  }

  public boolean synchronous() {
    return "sync".equals(syncState) || "quorum".equals(syncState);
  }
}
