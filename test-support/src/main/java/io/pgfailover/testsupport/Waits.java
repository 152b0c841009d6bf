package io.pgfailover.testsupport;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Waiting for a condition with a deadline, never for a fixed time. The pause between checks starts
 * at 10 ms and doubles up to 200 ms, so a fast condition is seen quickly and a slow one does not
 * burn the two CPUs.
 */
public final class Waits {

  /**
   * A condition that may fail while the system is still getting there; a thrown exception means
   * "not yet".
   */
  @FunctionalInterface
  public interface Condition {
    boolean holds() throws Exception;
  }

  /**
   * Thrown by a condition that can never hold any more (the server died): stops the wait at once.
   */
  public static final class GiveUp extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GiveUp(String message) {
      super(message);
    }
  }

  private Waits() {}

  /**
   * Returns once {@code condition} holds; throws {@link IllegalStateException} naming {@code what}
   * at the deadline.
   */
  public static void until(String what, Duration timeout, Condition condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long pauseNanos = TimeUnit.MILLISECONDS.toNanos(10);
    Exception last = null;
    while (true) {
      try {
        if (condition.holds()) {
          return;
        }
      } catch (GiveUp e) {
        throw new IllegalStateException("gave up waiting for " + what + ": " + e.getMessage(), e);
      } catch (Exception e) {
        last = e;
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        IllegalStateException timeoutError =
            new IllegalStateException(
                "timed out after "
                    + timeout
                    + " waiting for "
                    + what
                    + (last == null ? "" : "; last error: " + last));
        if (last != null) {
          timeoutError.initCause(last);
        }
        throw timeoutError;
      }
      LockSupport.parkNanos(Math.min(pauseNanos, left));
      if (Thread.interrupted()) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for " + what);
      }
      pauseNanos = Math.min(pauseNanos * 2, TimeUnit.MILLISECONDS.toNanos(200));
    }
  }
}
