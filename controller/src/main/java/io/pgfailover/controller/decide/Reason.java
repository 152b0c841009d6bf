package io.pgfailover.controller.decide;

/** Why a loop did what it did: one code per loop, logged, shown by status, asserted in tests. */
public enum Reason {
  HEALTHY,
  REPOINT_ROUTES,
  ROUTE_TABLE_PROBLEM,
  PRIMARY_SUSPECT,
  FAILOVER,
  PRIMARY_ALIVE_PER_WITNESS,
  NO_CANDIDATE,
  LAG_TOO_HIGH,
  AUTOMATIC_FAILOVER_OFF,
  TWO_PRIMARIES,
  STALE_PRIMARY,
  NO_PRIMARY,
  ROUTES_UNKNOWN,
  MANUAL_FAILOVER,
  SWITCHOVER,
  REQUEST_REFUSED,
  /** A node that fell off is asked to come back as a standby. */
  REJOIN,
  /** The primary's synchronous standby changes (replication: {mode: sync}). */
  SYNCHRONOUS_STANDBYS,
  /** No automatic failover: the standby was not synchronous (replication: {mode: sync}). */
  NO_SYNCHRONOUS_CANDIDATE;

  /** Whether a decision with this reason carries an operator's request out (else it refused it). */
  public boolean carriesOutARequest() {
    return this == MANUAL_FAILOVER || this == SWITCHOVER || this == REJOIN;
  }
}
