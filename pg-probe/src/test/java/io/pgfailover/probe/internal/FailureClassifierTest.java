package io.pgfailover.probe.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.probe.Reachability;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;

class FailureClassifierTest {

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        "28P01 | FATAL: password authentication failed for user \"pgfailover\" | AUTH_FAILED",
        "28000 | FATAL: no pg_hba.conf entry for host \"10.0.0.5\" | AUTH_FAILED",
        "53300 | FATAL: sorry, too many clients already | TOO_MANY_CONNECTIONS",
        "57P03 | FATAL: the database system is starting up | STARTING_UP",
        "57P03 | FATAL: the database system is not yet accepting connections | STARTING_UP",
        "57P03 | FATAL: the database system is in recovery mode | STARTING_UP",
        "57P03 | FATAL: the database system is shutting down | SHUTTING_DOWN",
        "57P01 | FATAL: terminating connection due to administrator command | SHUTTING_DOWN",
        "3D000 | FATAL: database \"nope\" does not exist | OTHER",
        "25006 | ERROR: cannot execute INSERT in a read-only transaction | OTHER",
      })
  void serverSqlStates(String state, String message, Reachability expected) {
    assertEquals(expected, FailureClassifier.classify(new SQLException(message, state)));
  }

  @Test
  void refusedConnectionFromTheDriver() {
    PSQLException e =
        new PSQLException(
            "Connection to 127.0.0.1:1 refused.",
            PSQLState.CONNECTION_UNABLE_TO_CONNECT,
            new ConnectException("Connection refused"));
    assertEquals(Reachability.REFUSED, FailureClassifier.classify(e));
  }

  @Test
  void connectOrReadTimeoutFromTheDriver() {
    assertEquals(
        Reachability.TIMEOUT,
        FailureClassifier.classify(
            new PSQLException(
                "The connection attempt failed.",
                PSQLState.CONNECTION_UNABLE_TO_CONNECT,
                new SocketTimeoutException("connect timed out"))));
    assertEquals(
        Reachability.TIMEOUT,
        FailureClassifier.classify(
            new PSQLException(
                "An I/O error occurred while sending to the backend.",
                PSQLState.CONNECTION_FAILURE,
                new SocketTimeoutException("Read timed out"))));
  }

  /**
   * What pgjdbc itself throws when the server's host closes (end of stream) or resets the
   * connection without a word from PostgreSQL, as when the server process dies: a server on
   * loopback that reads the client's startup packet and then hangs up, either way. It reads the
   * whole packet first: a socket closed with unread input sends a reset, not an end of stream.
   */
  @ParameterizedTest(name = "reset={0}")
  @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
  void aConnectionTheServersHostClosesOrResetsIsReset(boolean reset) throws Exception {
    try (java.net.ServerSocket server =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      server.setSoTimeout(10_000);
      java.util.concurrent.CompletableFuture<Void> hungUp =
          java.util.concurrent.CompletableFuture.runAsync(
              () -> {
                try (java.net.Socket s = server.accept()) {
                  s.setSoTimeout(10_000);
                  java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
                  in.readFully(new byte[in.readInt() - 4]); // the startup packet, length first
                  if (reset) {
                    s.setSoLinger(true, 0); // close with RST instead of FIN
                  }
                } catch (IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
      java.util.Properties p = new java.util.Properties();
      p.setProperty("user", "x");
      p.setProperty("password", "x");
      p.setProperty("sslmode", "disable");
      p.setProperty("connectTimeout", "5");
      p.setProperty("socketTimeout", "5");
      SQLException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              SQLException.class,
              () ->
                  new org.postgresql.Driver()
                      .connect("jdbc:postgresql://127.0.0.1:" + server.getLocalPort() + "/x", p)
                      .close());
      hungUp.get(10, java.util.concurrent.TimeUnit.SECONDS);
      assertEquals(Reachability.RESET, FailureClassifier.classify(e), e + " / " + e.getCause());
      // each way takes its own branch: end of stream, or the peer's reset
      org.junit.jupiter.api.Assertions.assertTrue(
          reset
              ? e.getCause() instanceof java.net.SocketException
              : e.getCause() instanceof java.io.EOFException,
          String.valueOf(e.getCause()));
    }
  }

  @Test
  void aSocketThisProcessClosedIsNoReset() {
    assertEquals(
        Reachability.OTHER,
        FailureClassifier.classify(
            new PSQLException(
                "An I/O error occurred while sending to the backend.",
                PSQLState.CONNECTION_FAILURE,
                new java.net.SocketException("Socket closed"))));
  }

  @Test
  void serverStateWinsOverTheTransportCause() {
    SQLException e =
        new SQLException(
            "FATAL: the database system is shutting down", "57P03", new SocketTimeoutException());
    assertEquals(Reachability.SHUTTING_DOWN, FailureClassifier.classify(e));
  }

  @Test
  void anythingElseIsOther() {
    assertEquals(
        Reachability.OTHER,
        FailureClassifier.classify(
            new PSQLException(
                "The connection attempt failed.",
                PSQLState.CONNECTION_UNABLE_TO_CONNECT,
                new UnknownHostException("db.example"))));
    assertEquals(
        Reachability.OTHER,
        FailureClassifier.classify(
            new IllegalStateException("password environment variable X is not set")));
    assertEquals(Reachability.OTHER, FailureClassifier.classify(new IOException("boom")));
  }
}
