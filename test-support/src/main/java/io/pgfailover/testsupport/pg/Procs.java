package io.pgfailover.testsupport.pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

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
}
