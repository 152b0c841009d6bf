package io.pgfailover.probe.internal;

import io.pgfailover.probe.Reachability;
import java.io.EOFException;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.util.Locale;

/** Maps what the JDBC driver threw to a failure kind. */
public final class FailureClassifier {

  private FailureClassifier() {}

  public static Reachability classify(Throwable failure) {
    // The server's SQLSTATE is the most precise signal, so look for it first anywhere in the chain.
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SQLException sql && sql.getSQLState() != null) {
        Reachability kind = fromSqlState(sql.getSQLState(), String.valueOf(sql.getMessage()));
        if (kind != null) {
          return kind;
        }
      }
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof SocketTimeoutException) {
        return Reachability.TIMEOUT;
      }
      if (t instanceof ConnectException) {
        return Reachability.REFUSED;
      }
      if (t instanceof EOFException || isReset(t)) {
        return Reachability.RESET;
      }
    }
    return Reachability.OTHER;
  }

  /**
   * The peer's reset or a write into a connection it closed. Not "Socket closed": that is this
   * process closing its own socket (a probe abandoning a connection at its deadline).
   */
  private static boolean isReset(Throwable t) {
    if (!(t instanceof SocketException) || t.getMessage() == null) {
      return false;
    }
    String m = t.getMessage().toLowerCase(Locale.ROOT);
    return m.contains("connection reset") || m.contains("broken pipe");
  }

  /**
   * The kind for a SQLSTATE, or null when the state alone does not say (then the cause decides).
   */
  static Reachability fromSqlState(String sqlState, String message) {
    switch (sqlState) {
      case "28P01": // invalid_password
      case "28000": // invalid_authorization_specification: pg_hba.conf rejected us, or no such role
        return Reachability.AUTH_FAILED;
      case "53300": // too_many_connections
        return Reachability.TOO_MANY_CONNECTIONS;
      case "57P03": // cannot_connect_now: the message is the only thing that tells starting from
        // stopping.
        // The server localizes it (lc_messages), so anything but the English "shutting down" reads
        // as starting.
        return message.toLowerCase(Locale.ROOT).contains("shutting down")
            ? Reachability.SHUTTING_DOWN
            : Reachability.STARTING_UP;
      case "57P01": // admin_shutdown: our session was terminated by a shutdown
        return Reachability.SHUTTING_DOWN;
      default:
        return null;
    }
  }
}
