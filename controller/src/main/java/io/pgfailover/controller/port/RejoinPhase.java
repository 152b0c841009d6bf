package io.pgfailover.controller.port;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * Where a node agent's rejoin is, with the only transitions it may take. A rejoin runs {@code
 * CHECKING → STOPPING → REWINDING → (RECLONING) → CONFIGURING → STARTING → AWAITING_STREAM → DONE};
 * any running phase may end in {@code FAILED}; a finished or failed rejoin (or none yet, {@code
 * IDLE}) may start again at {@code CHECKING}. Anything else is a bug and {@link #to} throws.
 */
public enum RejoinPhase {
  /** No rejoin since the agent's history began. */
  IDLE,
  /** Re-checking the source and this node just before anything is changed. */
  CHECKING,
  /** Stopping PostgreSQL (fast shutdown). */
  STOPPING,
  /** pg_rewind from the source; "no rewind required" ends here too. */
  REWINDING,
  /** pg_basebackup into a new directory beside the data directory, then the swap. */
  RECLONING,
  /** standby.signal, primary_conninfo and primary_slot_name, pg_replslot/ emptied. */
  CONFIGURING,
  /** Starting PostgreSQL as a standby. */
  STARTING,
  /** Waiting until the WAL receiver streams from the source. */
  AWAITING_STREAM,
  /** Streaming from the source. */
  DONE,
  /** Stopped at a failure; the node is left stopped unless nothing had been changed yet. */
  FAILED;

  private static final Map<RejoinPhase, Set<RejoinPhase>> NEXT = new EnumMap<>(RejoinPhase.class);

  static {
    NEXT.put(IDLE, EnumSet.of(CHECKING));
    NEXT.put(CHECKING, EnumSet.of(STOPPING, FAILED));
    NEXT.put(STOPPING, EnumSet.of(REWINDING, FAILED));
    NEXT.put(REWINDING, EnumSet.of(CONFIGURING, RECLONING, FAILED));
    NEXT.put(RECLONING, EnumSet.of(CONFIGURING, FAILED));
    NEXT.put(CONFIGURING, EnumSet.of(STARTING, FAILED));
    NEXT.put(STARTING, EnumSet.of(AWAITING_STREAM, FAILED));
    NEXT.put(AWAITING_STREAM, EnumSet.of(DONE, FAILED));
    NEXT.put(DONE, EnumSet.of(CHECKING));
    NEXT.put(FAILED, EnumSet.of(CHECKING));
  }

  /** The phases this one may move to. */
  public Set<RejoinPhase> next() {
    return EnumSet.copyOf(NEXT.get(this));
  }

  /** {@code next}, when the table allows it; an illegal transition throws. */
  public RejoinPhase to(RejoinPhase next) {
    if (!NEXT.get(this).contains(next)) {
      throw new IllegalStateException(
          "illegal rejoin transition "
              + this
              + " -> "
              + next
              + " (allowed: "
              + NEXT.get(this)
              + ")");
    }
    return next;
  }

  /** A rejoin is under way: from CHECKING to AWAITING_STREAM. */
  public boolean running() {
    return this != IDLE && this != DONE && this != FAILED;
  }
}
