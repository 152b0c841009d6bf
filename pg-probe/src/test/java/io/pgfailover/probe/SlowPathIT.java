package io.pgfailover.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What a probe makes of a slow path: it opens another connection while the first has not answered
 * (so one lost SYN does not fail it), reports {@code SLOW} when the server answered but the probe
 * could not finish, and {@code TIMEOUT} only when nothing answered at all. The "path" is a local
 * listener standing between the probe and the harness's primary.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class SlowPathIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  private static final Duration DEADLINE = Duration.ofSeconds(1);

  @Test
  void theFirstConnectionGetsNoAnswer_aLaterOneWithinTheDeadlineReachesThePrimary()
      throws Exception {
    PgNode primary = pg.primary();
    // Like a lost SYN: the first connection is accepted and never forwarded, the others are.
    try (Path path = new Path(n -> n == 1 ? Mode.SILENT : Mode.FORWARD, primary);
        PgProbe probe = new PgProbe(new ProbeSettings(DEADLINE, DEADLINE.dividedBy(2), false))) {
      ProbeResult r = probe.probe(path.endpoint(primary));

      assertEquals(Reachability.REACHABLE, r.reachability(), r.toString());
      assertEquals(Role.PRIMARY, r.role(), r.toString());
      assertTrue(path.connections() >= 2, "connections: " + path.connections());
    }
  }

  @Test
  void theServerAnswersThenGoesSilent_slowNotTimeout() throws Exception {
    PgNode primary = pg.primary();
    try (Path path = new Path(n -> Mode.ANSWER_THEN_SILENT, primary);
        PgProbe probe = new PgProbe(new ProbeSettings(DEADLINE, DEADLINE.dividedBy(2), false))) {
      NodeEndpoint node = path.endpoint(primary);
      long began = System.nanoTime();
      ProbeResult r = probe.probe(node);
      long ended = System.nanoTime();

      assertEquals(Reachability.SLOW, r.reachability(), r.toString());
      long heard = probe.lastHeardOnProbe(node.name()).orElseThrow();
      assertTrue(
          heard - began > 0 && ended - heard > 0,
          "when the server last answered on the probe's connections: during the probe");
      assertEquals(
          "the server answered but the probe did not finish within the deadline PT1S (4"
              + " connections): alive, the path or the server is slow",
          r.error().orElseThrow());
    }
  }

  @Test
  void nothingAnswersOnAnyConnection_timeoutAfterFourConnections() throws Exception {
    PgNode primary = pg.primary();
    try (Path path = new Path(n -> Mode.SILENT, primary);
        PgProbe probe = new PgProbe(new ProbeSettings(DEADLINE, DEADLINE.dividedBy(2), false))) {
      ProbeResult r = probe.probe(path.endpoint(primary));

      assertEquals(Reachability.TIMEOUT, r.reachability(), r.toString());
      assertTrue(
          probe.lastHeardOnProbe(path.endpoint(primary).name()).isEmpty(),
          "nothing heard on any connection");
      assertEquals(
          "no answer within the probe deadline PT1S (connect, login and queries; 4 connections)",
          r.error().orElseThrow());
      assertEquals(PgProbe.TRIES, path.connections());
    }
  }

  @Test
  void aRefusedConnectionEndsTheProbeAtOnce_noFurtherConnections() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    } // closed: nothing listens there now
    try (PgProbe probe = new PgProbe(new ProbeSettings(DEADLINE, DEADLINE.dividedBy(2), false))) {
      ProbeResult r =
          probe.probe(
              NodeEndpoint.of(
                  "pg-x",
                  "127.0.0.1",
                  port,
                  "postgres",
                  "postgres",
                  PasswordSource.literal("unused")));

      assertEquals(Reachability.REFUSED, r.reachability(), r.toString());
      assertTrue(r.latency().compareTo(DEADLINE) < 0, "did not wait for the deadline: " + r);
    }
  }

  private enum Mode {
    /** Accepts and never sends a byte (a lost SYN, a frozen or cut-off host). */
    SILENT,
    /** Answers the driver's SSLRequest with 'N', then sends nothing more. */
    ANSWER_THEN_SILENT,
    /** Relays both ways to the real server. */
    FORWARD
  }

  /** A listener on loopback standing for the path to the primary. */
  private static final class Path implements AutoCloseable {
    private final ServerSocket server;
    private final AtomicInteger accepted = new AtomicInteger();
    private final List<Socket> open = new CopyOnWriteArrayList<>();

    Path(java.util.function.IntFunction<Mode> modeOfConnection, PgNode target) throws IOException {
      server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
      Thread t =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket c = server.accept();
                    open.add(c);
                    Mode mode = modeOfConnection.apply(accepted.incrementAndGet());
                    if (mode == Mode.ANSWER_THEN_SILENT) {
                      c.getInputStream().readNBytes(8); // the SSLRequest
                      c.getOutputStream().write('N');
                      c.getOutputStream().flush();
                    } else if (mode == Mode.FORWARD) {
                      Socket s = new Socket(target.host(), target.port());
                      open.add(s);
                      relay(c.getInputStream(), s.getOutputStream());
                      relay(s.getInputStream(), c.getOutputStream());
                    }
                  } catch (IOException e) {
                    return; // closed
                  }
                }
              },
              "slow-path");
      t.setDaemon(true);
      t.start();
    }

    private static void relay(InputStream in, OutputStream out) {
      Thread t =
          new Thread(
              () -> {
                try {
                  in.transferTo(out);
                } catch (IOException e) {
                  // one side closed
                }
              },
              "slow-path-relay");
      t.setDaemon(true);
      t.start();
    }

    NodeEndpoint endpoint(PgNode node) {
      NodeEndpoint real = TestNodes.endpoint(node);
      return NodeEndpoint.of(
          real.name(),
          "127.0.0.1",
          server.getLocalPort(),
          real.database(),
          real.user(),
          PasswordSource.literal(node.superuserPassword()));
    }

    int connections() {
      return accepted.get();
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : open) {
        s.close();
      }
    }
  }
}
