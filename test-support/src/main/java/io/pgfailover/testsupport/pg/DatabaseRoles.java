package io.pgfailover.testsupport.pg;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The repository's config/roles.sql, applied to a test pair exactly as an operator applies it: the
 * passwords as psql variables on standard input, then the file.
 */
public final class DatabaseRoles {
  /** The controller's login role the file creates. */
  public static final String CONTROLLER = "pgfailover";

  private DatabaseRoles() {}

  /** config/roles.sql in this checkout. */
  public static Path file() {
    String root = System.getProperty("pgfailover.repoRoot");
    Path dir = root != null ? Path.of(root) : Path.of("").toAbsolutePath();
    while (dir != null && !Files.exists(dir.resolve("config/roles.sql"))) {
      dir = dir.getParent();
    }
    if (dir == null) {
      throw new IllegalStateException("config/roles.sql not found above the working directory");
    }
    return dir.resolve("config/roles.sql");
  }

  /** Applies the file on the pair's primary (roles replicate to the standby). */
  public static void apply(
      PostgresPair pair, String controllerPassword, String replicationPassword) {
    try {
      String script =
          "\\set controller_pw '"
              + controllerPassword.replace("'", "''")
              + "'\n\\set replication_pw '"
              + replicationPassword.replace("'", "''")
              + "'\n"
              + Files.readString(file());
      pair.psql(pair.primary(), script);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
