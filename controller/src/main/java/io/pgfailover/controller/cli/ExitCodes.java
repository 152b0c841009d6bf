package io.pgfailover.controller.cli;

/**
 * failoverctl's exit codes, documented in the README. Scripts and systemd tell misconfiguration,
 * missing permission, a refused request and a runtime failure apart by these.
 */
public final class ExitCodes {
  /** Done; for status: a healthy primary with every route on it. */
  public static final int OK = 0;

  /** An action failed (promotion, route switch, fencing) or an unexpected runtime error. */
  public static final int FAILED = 1;

  /** Bad command-line usage. */
  public static final int USAGE = 2;

  /** The configuration file is invalid; every error is printed with its line. */
  public static final int CONFIG = 3;

  /** Not allowed: admin token missing or wrong, or an AWS authorization error. */
  public static final int PERMISSION = 4;

  /**
   * A safety guard refused the request (healthy primary, witness, lag, unknown node). Nothing
   * changed.
   */
  public static final int REFUSED = 5;

  /** status/preflight: the cluster is not healthy or a check failed. */
  public static final int UNHEALTHY = 6;

  private ExitCodes() {}
}
