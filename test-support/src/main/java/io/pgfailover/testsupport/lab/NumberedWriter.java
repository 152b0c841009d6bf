package io.pgfailover.testsupport.lab;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A client that inserts numbered rows in a loop through the virtual IP, as an application would,
 * for the demo and the benchmark: each subclass says how it reaches the primary and what it records
 * per acknowledgement. An id whose insert failed is never reused, so a commit that lands late is
 * never mistaken for an acknowledged one.
 */
public abstract class NumberedWriter implements Runnable {
  public final AtomicBoolean stop = new AtomicBoolean();

  /**
   * The connection to write on now: {@code current} when it still fits, else a new one (closing the
   * old).
   */
  protected abstract Connection connection(Connection current) throws SQLException;

  /** Inserts row {@code id} on {@code c} and records its acknowledgement. */
  protected abstract void write(Connection c, long id) throws SQLException;

  @Override
  public final void run() {
    long next = 1;
    Connection c = null;
    while (!stop.get()) {
      try {
        c = connection(c);
        write(c, next);
        next++;
      } catch (SQLException | RuntimeException e) {
        close(c);
        c = null;
        next++;
        try {
          Thread.sleep(20); // back off a little between failed attempts while the primary is away
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
    close(c);
  }

  protected static void close(Connection c) {
    try {
      if (c != null) {
        c.close();
      }
    } catch (SQLException ignored) {
      // closing a broken connection
    }
  }
}
