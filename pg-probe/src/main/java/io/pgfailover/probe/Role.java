package io.pgfailover.probe;

/** What a node says it is, from {@code pg_is_in_recovery()}. */
public enum Role {
  PRIMARY,
  STANDBY,
  /** The node could not be asked. */
  UNKNOWN
}
