package io.pgfailover.controller.config;

/** Where a node's password comes from. Never the password itself: configs get copied around. */
public record PasswordConfig(Kind kind, String value) {
  public enum Kind {
    /** An environment variable named by {@code value}. */
    ENV,
    /** A file (mode 0600) named by {@code value}. */
    FILE,
    /** The libpq password file (~/.pgpass or PGPASSFILE); {@code value} is unused. */
    PGPASS
  }
}
