package io.pgfailover.probe;

/** Whether a probe got answers from the node, and if not, how it failed. */
public enum Reachability {
  /** Connected, logged in and answered every query within the deadline. */
  REACHABLE,
  /**
   * Nothing listens on the port (connection refused): the server is down or the address is wrong.
   */
  REFUSED,
  /**
   * No answer at all within the probe deadline: the server sent not one byte on any of the probe's
   * connections (a frozen or cut-off host, a crashed one behind a silent network).
   */
  TIMEOUT,
  /**
   * The server answered (sent protocol bytes on one of the probe's connections) but the probe did
   * not finish within the deadline: it is alive, the path or the server is slow (packet loss,
   * overload). Not a sign that it is gone.
   */
  SLOW,
  /**
   * The server rejected the credentials or pg_hba.conf rejected the connection (SQLSTATE 28P01,
   * 28000).
   */
  AUTH_FAILED,
  /** max_connections or a role/database connection limit reached (SQLSTATE 53300). */
  TOO_MANY_CONNECTIONS,
  /**
   * Up but not yet accepting connections: starting, in crash recovery, not yet consistent (SQLSTATE
   * 57P03).
   */
  STARTING_UP,
  /** Shutting down, or the session was terminated by an administrator (SQLSTATE 57P03, 57P01). */
  SHUTTING_DOWN,
  /**
   * The server's host closed or reset the connection without a word from PostgreSQL (end of stream,
   * connection reset, broken pipe): most often the server process went away with the connection
   * open, as in a crash; also a server's TCP timeout or a middlebox dropping the connection. A
   * lossy or cut path by itself times out instead ({@link #TIMEOUT}).
   */
  RESET,
  /** Anything else; the result's error says what. */
  OTHER
}
