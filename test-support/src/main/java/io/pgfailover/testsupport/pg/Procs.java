package io.pgfailover.testsupport.pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** Linux process facts read from /proc. */
final class Procs {

  private Procs() {}

  /**
   * Whether a process is running. A zombie counts as gone: when a postmaster is SIGKILLed its
   * backends are re-parented to PID 1, and in containers PID 1 often never reaps them.
   */
  static boolean isRunning(long pid) {
    try {
      String stat =
          Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
      // Format: "pid (comm) S ..."; comm may contain spaces and parentheses, so read after the last
      // ')'.
      char state = stat.charAt(stat.lastIndexOf(')') + 2);
      return state != 'Z' && state != 'X';
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Direct children of a process (a postmaster's backends and auxiliary processes). */
  static List<Long> children(long pid) {
    return ProcessHandle.of(pid).stream()
        .flatMap(ProcessHandle::children)
        .map(ProcessHandle::pid)
        .filter(Procs::isRunning)
        .toList();
  }

  /** The NUL-separated command line of a process, joined by spaces. */
  static Optional<String> cmdline(long pid) {
    try {
      byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
      return Optional.of(new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').trim());
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * The postmaster named by the first line of {@code dataDir}/postmaster.pid, if that process runs
   * and is a PostgreSQL server (not a stale file whose PID was reused by something else).
   */
  static OptionalLong postmasterOf(Path dataDir) {
    try {
      List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"));
      long pid = Long.parseLong(lines.get(0).trim());
      String comm =
          Files.readString(Path.of("/proc", Long.toString(pid), "comm"), StandardCharsets.US_ASCII)
              .trim();
      return isRunning(pid) && (comm.equals("postgres") || comm.equals("postmaster"))
          ? OptionalLong.of(pid)
          : OptionalLong.empty();
    } catch (IOException | RuntimeException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * Removes a postmaster.pid whose process has ended. A SIGKILLed server started outside the
   * harness is re-parented to PID 1, which in a container may never reap it: the zombie still
   * answers {@code kill(pid, 0)}, so PostgreSQL would refuse to start over its lock file.
   */
  static void removeStalePidFile(Path dataDir) {
    Path file = dataDir.resolve("postmaster.pid");
    if (Files.exists(file) && postmasterOf(dataDir).isEmpty()) {
      try {
        Files.deleteIfExists(file);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot remove the stale " + file, e);
      }
    }
  }
}
