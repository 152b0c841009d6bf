package io.pgfailover.controller.config;

import io.pgfailover.probe.PasswordSource;
import java.nio.file.Path;

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

  /** pg-probe's reader for this source; it reads the password at each connection. */
  public PasswordSource source() {
    return switch (kind) {
      case ENV -> PasswordSource.fromEnv(value);
      case FILE -> PasswordSource.fromFile(Path.of(value));
      case PGPASS -> PasswordSource.pgpass();
    };
  }
}
