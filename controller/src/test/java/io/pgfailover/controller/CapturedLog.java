package io.pgfailover.controller;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The controller's log lines while a test runs: slf4j-simple writes each one to whatever {@code
 * System.err} is at that moment (logFile=System.err, not cached), so swapping it captures them.
 */
public final class CapturedLog {
  private final PrintStream original;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

  private CapturedLog() {
    this.original = System.err;
    System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
  }

  public static CapturedLog start() {
    return new CapturedLog();
  }

  /** Puts the real stderr back, and echoes what was captured to it. */
  public void stop() {
    System.setErr(original);
    original.print(text());
  }

  public synchronized String text() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  public List<String> lines() {
    return text().lines().toList();
  }
}
