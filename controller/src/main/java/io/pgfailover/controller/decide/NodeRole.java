package io.pgfailover.controller.decide;

/** What a node said it is ({@code pg_is_in_recovery()}), or UNKNOWN when it could not be asked. */
public enum NodeRole {
  PRIMARY,
  STANDBY,
  UNKNOWN
}
