package io.pgfailover.probe;

import io.pgfailover.probe.internal.Passwords;
import java.nio.file.Path;

/**
 * Where a node's password comes from. Sources are read on every connection, so a rotated password
 * is picked up without a restart. {@code toString()} never shows a password.
 */
public interface PasswordSource {

  /**
   * The password for a connection to {@code host:port/database} as {@code user}.
   *
   * @throws IllegalStateException when the source cannot give one; the message names the source and
   *     the fix
   */
  String password(String host, int port, String database, String user);

  /** The value of an environment variable. */
  static PasswordSource fromEnv(String variable) {
    return new Passwords.Env(variable);
  }

  /**
   * The first line of a file (trailing newline removed), e.g. a mounted secret. The file must not
   * be readable by group or others (chmod 600), like libpq's rule for .pgpass.
   */
  static PasswordSource fromFile(Path file) {
    return new Passwords.File(file);
  }

  /**
   * libpq's password file: {@code $PGPASSFILE}, else {@code ~/.pgpass}; lines {@code
   * host:port:database:username:password}, {@code *} matches anything, {@code \:} and {@code \\}
   * escape, the first matching line wins. The file must be chmod 600.
   */
  static PasswordSource pgpass() {
    return Passwords.Pgpass.standardLocation();
  }

  /** A password file in libpq's .pgpass format at an explicit path. */
  static PasswordSource pgpass(Path file) {
    return new Passwords.Pgpass(file);
  }

  /** A password given in code: for tests only. */
  static PasswordSource literal(String password) {
    return new Passwords.Literal(password);
  }
}
