package io.pgfailover.controller.config;

import java.nio.file.Path;

/**
 * The event history and the controller's state files beside it.
 *
 * <p>The active file rotates by size so that a standing alarm cannot fill the disk: once the next
 * event would take it past {@code maxFileBytes} it becomes {@code PATH.1}, the older ones shift to
 * {@code PATH.2} … {@code PATH.keepFiles}, and the oldest is deleted. At most {@code (keepFiles +
 * 1) × maxFileBytes} stay on disk.
 *
 * @param path the active file, e.g. {@code /var/lib/pgfailover/events.jsonl}
 * @param maxFileBytes rotate the active file before it would grow past this many bytes
 * @param keepFiles how many rotated files to keep beside the active one
 */
public record EventLogConfig(Path path, long maxFileBytes, int keepFiles) {
  public static final Path DEFAULT_PATH = Path.of("/var/lib/pgfailover/events.jsonl");

  /** 16 MiB: about 50,000 events, weeks of a standing alarm repeated every 5 minutes. */
  public static final long DEFAULT_MAX_FILE_BYTES = 16L * 1024 * 1024;

  public static final int DEFAULT_KEEP_FILES = 5;

  /** Well above the longest event a reader accepts (see EventLog), so every event fits a file. */
  public static final long MIN_MAX_FILE_BYTES = 1024L * 1024;

  public static final long MAX_MAX_FILE_BYTES = 1024L * 1024 * 1024;
  public static final int MAX_KEEP_FILES = 100;

  /** The defaults for a file given as {@code eventLog: PATH}. */
  public static EventLogConfig of(Path path) {
    return new EventLogConfig(path, DEFAULT_MAX_FILE_BYTES, DEFAULT_KEEP_FILES);
  }

  /** The {@code n}-th rotated file, 1 being the newest. */
  public Path rotated(int n) {
    return sibling("." + n);
  }

  /**
   * The small state file (newest timeline seen), rewritten atomically: the event history may rotate
   * it away, this may not.
   */
  public Path stateFile() {
    return sibling(".state");
  }

  /**
   * Held locked by the one process that may act from this host (the daemon or a direct command).
   */
  public Path lockFile() {
    return sibling(".lock");
  }

  private Path sibling(String suffix) {
    return path.resolveSibling(path.getFileName() + suffix);
  }
}
