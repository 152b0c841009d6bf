package io.pgfailover.controller.config;

/**
 * One problem in a configuration file: where it is, what is wrong, and how to fix it.
 *
 * @param line 1-based line in the file, or 0 when the problem is not tied to a line (a missing
 *     top-level key)
 * @param path the dotted field path, e.g. {@code nodes[1].port}
 */
public record ConfigError(String source, int line, String path, String problem, String fix) {

  /**
   * Renders as {@code file:12: probe.interval: "1x" is not a duration. Fix: write e.g. 1s or
   * 500ms}.
   */
  @Override
  public String toString() {
    String where = line > 0 ? source + ":" + line : source;
    return where + ": " + path + ": " + problem + ". Fix: " + fix;
  }
}
