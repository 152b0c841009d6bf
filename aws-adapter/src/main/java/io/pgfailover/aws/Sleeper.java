package io.pgfailover.aws;

import java.time.Duration;

/** Waits between polls; injected so tests of waiting code need not wait. */
@FunctionalInterface
public interface Sleeper {
  void sleep(Duration duration) throws InterruptedException;

  static Sleeper system() {
    return duration -> Thread.sleep(duration.toMillis());
  }
}
