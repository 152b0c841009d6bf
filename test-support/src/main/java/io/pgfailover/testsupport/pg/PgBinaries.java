package io.pgfailover.testsupport.pg;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Where the PostgreSQL server binaries live: {@code PG_BINDIR}, else {@code pg_config --bindir},
 * else the newest {@code /usr/lib/postgresql/<major>/bin}.
 */
public record PgBinaries(Path binDir) {

  static final String INSTALL_HINT =
      "install the PostgreSQL server binaries (Debian/Ubuntu: apt-get install postgresql;"
          + " scripts/test.sh does it when run as root) or set PG_BINDIR to the directory that"
          + " holds initdb, postgres and pg_basebackup";

  public PgBinaries {
    for (String tool : List.of("initdb", "postgres", "pg_basebackup")) {
      if (!Files.isExecutable(binDir.resolve(tool))) {
        throw new IllegalStateException(
            "PostgreSQL binary " + tool + " not found in " + binDir + ": " + INSTALL_HINT);
      }
    }
  }

  public Path tool(String name) {
    return binDir.resolve(name);
  }

  public static PgBinaries locate() {
    String fromEnv = System.getenv("PG_BINDIR");
    if (fromEnv != null && !fromEnv.isBlank()) {
      return new PgBinaries(Path.of(fromEnv));
    }
    Optional<Path> found =
        fromPgConfig().filter(PgBinaries::hasServer).or(PgBinaries::newestDebianBinDir);
    return new PgBinaries(
        found.orElseThrow(
            () ->
                new IllegalStateException(
                    "no PostgreSQL server binaries found (PG_BINDIR unset, pg_config has no initdb,"
                        + " /usr/lib/postgresql/*/bin empty): "
                        + INSTALL_HINT)));
  }

  private static boolean hasServer(Path dir) {
    return Files.isExecutable(dir.resolve("initdb")) && Files.isExecutable(dir.resolve("postgres"));
  }

  private static Optional<Path> fromPgConfig() {
    try {
      Process p = new ProcessBuilder("pg_config", "--bindir").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0 || out.isEmpty()) {
        return Optional.empty();
      }
      return Optional.of(Path.of(out));
    } catch (IOException e) {
      return Optional.empty(); // pg_config not on PATH: fall through to the Debian layout
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private static Optional<Path> newestDebianBinDir() {
    Path root = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(root)) {
      return Optional.empty();
    }
    try (Stream<Path> majors = Files.list(root)) {
      return majors
          .filter(p -> p.getFileName().toString().matches("\\d+(\\.\\d+)?"))
          .max(Comparator.comparingDouble(p -> Double.parseDouble(p.getFileName().toString())))
          .map(p -> p.resolve("bin"))
          .filter(PgBinaries::hasServer);
    } catch (IOException e) {
      return Optional.empty();
    }
  }
}
