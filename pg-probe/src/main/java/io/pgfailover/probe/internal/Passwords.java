package io.pgfailover.probe.internal;

import io.pgfailover.probe.PasswordSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** The password sources behind {@link PasswordSource}'s factories. */
public final class Passwords {

  private static final Set<PosixFilePermission> GROUP_OR_OTHERS =
      EnumSet.of(
          PosixFilePermission.GROUP_READ,
          PosixFilePermission.GROUP_WRITE,
          PosixFilePermission.GROUP_EXECUTE,
          PosixFilePermission.OTHERS_READ,
          PosixFilePermission.OTHERS_WRITE,
          PosixFilePermission.OTHERS_EXECUTE);

  private Passwords() {}

  /** An environment variable. */
  public record Env(String variable) implements PasswordSource {
    public Env {
      if (variable == null || variable.isBlank()) {
        throw new IllegalArgumentException("password environment variable name must not be empty");
      }
    }

    @Override
    public String password(String host, int port, String database, String user) {
      String value = System.getenv(variable);
      if (value == null || value.isEmpty()) {
        throw new IllegalStateException(
            "password environment variable "
                + variable
                + " is not set; export it or use a password file");
      }
      return value;
    }

    @Override
    public String toString() {
      return "env(" + variable + ")";
    }
  }

  /** The first line of a private file. */
  public record File(Path file) implements PasswordSource {
    public File {
      Objects.requireNonNull(file, "password file path must be set");
    }

    @Override
    public String password(String host, int port, String database, String user) {
      List<String> lines = readPrivate(file, "password file");
      if (lines.isEmpty() || lines.get(0).isEmpty()) {
        throw new IllegalStateException(
            "password file " + file + " is empty; put the password on its first line");
      }
      return lines.get(0);
    }

    @Override
    public String toString() {
      return "file(" + file + ")";
    }
  }

  /** libpq's .pgpass format. */
  public record Pgpass(Path file) implements PasswordSource {
    public Pgpass {
      Objects.requireNonNull(file, "pgpass file path must be set");
    }

    /** {@code $PGPASSFILE}, else {@code ~/.pgpass}, as libpq finds it. */
    public static Pgpass standardLocation() {
      String env = System.getenv("PGPASSFILE");
      if (env != null && !env.isEmpty()) {
        return new Pgpass(Path.of(env));
      }
      return new Pgpass(Path.of(System.getProperty("user.home"), ".pgpass"));
    }

    @Override
    public String password(String host, int port, String database, String user) {
      return lookup(readPrivate(file, "pgpass file"), host, port, database, user)
          .orElseThrow(
              () ->
                  new IllegalStateException(
                      "pgpass file "
                          + file
                          + " has no line matching "
                          + host
                          + ":"
                          + port
                          + ":"
                          + database
                          + ":"
                          + user
                          + "; add one (fields may be *)"));
    }

    /** The password of the first line matching all four fields; {@code *} matches anything. */
    public static Optional<String> lookup(
        List<String> lines, String host, int port, String database, String user) {
      String[] wanted = {host, Integer.toString(port), database, user};
      for (String line : lines) {
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        List<String> fields = split(line);
        if (fields.size() < 5) {
          continue; // libpq skips malformed lines too
        }
        boolean matches = true;
        for (int i = 0; i < 4 && matches; i++) {
          matches = fields.get(i).equals("*") || fields.get(i).equals(wanted[i]);
        }
        if (matches) {
          return Optional.of(
              fields.get(4)); // the rest of the line: ':' needs no escape in the password
        }
      }
      return Optional.empty();
    }

    /** Splits on unescaped ':' and resolves {@code \:} and {@code \\}. */
    private static List<String> split(String line) {
      List<String> fields = new ArrayList<>();
      StringBuilder current = new StringBuilder();
      for (int i = 0; i < line.length(); i++) {
        char c = line.charAt(i);
        if (c == '\\' && i + 1 < line.length()) {
          current.append(line.charAt(++i));
        } else if (c == ':' && fields.size() < 4) {
          fields.add(current.toString());
          current.setLength(0);
        } else {
          current.append(c);
        }
      }
      fields.add(current.toString());
      return fields;
    }

    @Override
    public String toString() {
      return "pgpass(" + file + ")";
    }
  }

  /** A password in code, for tests. */
  public record Literal(String value) implements PasswordSource {
    public Literal {
      Objects.requireNonNull(value, "literal password must not be null");
    }

    @Override
    public String password(String host, int port, String database, String user) {
      return value;
    }

    @Override
    public String toString() {
      return "literal(***)";
    }
  }

  /**
   * Reads a file that holds secrets, refusing one that group or others may read (as libpq does for
   * .pgpass).
   */
  static List<String> readPrivate(Path file, String what) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.stream().anyMatch(GROUP_OR_OTHERS::contains)) {
        throw new IllegalStateException(
            what
                + " "
                + file
                + " is accessible by group or others ("
                + java.nio.file.attribute.PosixFilePermissions.toString(perms)
                + "); run chmod 600 "
                + file);
      }
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new IllegalStateException(what + " " + file + " does not exist", e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + what + " " + file + ": " + e, e);
    }
  }
}
