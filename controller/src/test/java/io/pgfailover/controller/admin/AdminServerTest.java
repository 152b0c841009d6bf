package io.pgfailover.controller.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.pgfailover.controller.CapturedLog;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.http.BoundedHttpServer;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.loop.ScriptedCluster;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminServerTest {
  private static final String TOKEN = "0123456789abcdef0123";
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  @TempDir Path dir;

  @Test
  void aTokenFileOthersCanReadIsRefusedWithTheFix() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> BoundedHttpServer.readToken(token));
    assertTrue(e.getMessage().contains("fix: chmod 600 " + token), e.getMessage());
  }

  @Test
  void aShortTokenIsRefused() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "short\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> BoundedHttpServer.readToken(token));
    assertTrue(e.getMessage().contains("shorter than 16 characters"), e.getMessage());
  }

  @Test
  void anOwnerOnlyTokenIsReadWithoutItsNewline() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    assertArrayEquals("0123456789abcdef0123".getBytes(), BoundedHttpServer.readToken(token));
  }

  /**
   * The attack of issue 10: clients that send one header byte now and then, never finishing. Twice
   * as many as the old server had handler threads.
   */
  @Test
  void slowClientsNeitherStarveHealthNorStayConnectedPastTheBound() throws Exception {
    try (Daemon d = new Daemon("127.0.0.1:0")) {
      List<Socket> slow = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Socket s = new Socket();
        s.connect(d.address());
        s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes());
        slow.add(s);
      }
      AtomicBoolean trickling = new AtomicBoolean(true);
      Thread trickle =
          new Thread(
              () -> {
                // One byte per socket every 500 ms, until the server closed them all (or 60 s).
                for (int round = 0; round < 120 && trickling.get(); round++) {
                  for (Socket s : slow) {
                    try {
                      s.getOutputStream().write('x');
                    } catch (IOException closed) {
                      // the server closed it: the point of the test
                    }
                  }
                  try {
                    Thread.sleep(500);
                  } catch (InterruptedException e) {
                    return;
                  }
                }
              },
              "trickle");
      trickle.start();
      try {
        HttpResponse<String> health =
            HTTP.send(
                HttpRequest.newBuilder(d.uri("/health"))
                    .timeout(Duration.ofSeconds(2))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertTrue(health.body().contains("last_loop_age_ms"), health.body());

        // Each slow connection is closed by the server once it has taken longer than the bound to
        // send its request (checked every second); 4 s on top for a loaded machine.
        int limitMs = (BoundedHttpServer.REQUEST_READ_SECONDS + 1 + 4) * 1000;
        for (Socket s : slow) {
          s.setSoTimeout(limitMs);
          assertTrue(closedByServer(s), "closed by the server within " + limitMs + " ms");
        }
      } finally {
        trickling.set(false);
        trickle.join();
        for (Socket s : slow) {
          s.close();
        }
      }
    }
  }

  @Test
  void pathsMatchExactlyAndEachEndpointTakesOneMethod() throws Exception {
    try (Daemon d = new Daemon("127.0.0.1:0")) {
      d.loop.runOnce();
      assertEquals(200, get(d, "/status").statusCode());
      assertEquals(200, get(d, "/metrics").statusCode());
      for (String path : List.of("/statusXYZ", "/status/", "/healthz", "/metrics/x", "/", "/x")) {
        assertEquals(404, get(d, path).statusCode(), path);
      }
      HttpResponse<String> post =
          HTTP.send(
              HttpRequest.newBuilder(d.uri("/status"))
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(405, post.statusCode());
      assertEquals(405, get(d, "/failover").statusCode());
    }
  }

  @Test
  void aBodyLargerThanTheBoundIsRefused() throws Exception {
    try (Daemon d = new Daemon("127.0.0.1:0")) {
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(d.uri("/failover"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"to\":\"" + "x".repeat(BoundedHttpServer.MAX_BODY_BYTES) + "\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(413, r.statusCode(), r.body());
    }
  }

  @Test
  void aNewlineInThePathOrInToCannotForgeALogLine() throws Exception {
    CapturedLog log = CapturedLog.start();
    try (Daemon d = new Daemon("127.0.0.1:0")) {
      // %0A decodes to a newline in the path; no token, as an attacker has none.
      try (Socket s = new Socket()) {
        s.connect(d.address());
        s.getOutputStream()
            .write(
                ("POST /failover%0Aevent=admin_request%20request=forged HTTP/1.1\r\n"
                        + "Host: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        s.getInputStream().readAllBytes();
      }
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(d.uri("/failover"))
                  .header("Authorization", "Bearer " + TOKEN)
                  .POST(
                      HttpRequest.BodyPublishers.ofString(
                          "{\"to\":\"pg-b\\nevent=failover_done to=forged\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(409, r.statusCode(), r.body());
    } finally {
      log.stop();
    }
    for (String line : log.lines()) {
      assertFalse(line.startsWith("event="), "a forged line: " + line);
    }
    assertTrue(
        log.text().contains("path=\"/failover\\nevent=admin_request request=forged\""), log.text());
    assertTrue(
        log.text().contains("to=Optional[pg-b\\nevent=failover_done to=forged]"), log.text());
  }

  @Test
  void listeningBeyondLoopbackIsWarnedAboutAtStart() throws Exception {
    CapturedLog log = CapturedLog.start();
    try (Daemon loopback = new Daemon("127.0.0.1:0")) {
      assertFalse(log.text().contains("admin_listen_not_loopback"), log.text());
      try (Daemon everywhere = new Daemon("0.0.0.0:0")) {
        assertTrue(
            log.text()
                .contains(
                    "event=admin_listen_not_loopback address=0.0.0.0:"
                        + everywhere.server.address().getPort()),
            log.text());
      }
    } finally {
      log.stop();
    }
  }

  private static HttpResponse<String> get(Daemon d, String path) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(d.uri(path)).timeout(Duration.ofSeconds(5)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Whether the server ended the connection (EOF or reset) before the socket's read timeout. */
  private static boolean closedByServer(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    try {
      while (true) {
        if (in.read() == -1) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException reset) {
      return true;
    }
  }

  /** The admin API of a daemon over scripted ports, its loop running as {@code run} runs it. */
  private final class Daemon implements AutoCloseable {
    final ControlLoop loop;
    final AdminServer server;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;

    Daemon(String listen) throws Exception {
      Path token = Files.writeString(dir.resolve("admin-token-" + listen.hashCode()), TOKEN);
      Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
      ScriptedCluster cluster =
          new ScriptedCluster(
              Files.createDirectories(dir.resolve("d" + listen.hashCode())),
              "admin: {listen: '" + listen + "', tokenFile: " + token + "}\n");
      loop = cluster.loop();
      EventLog events =
          new EventLog(cluster.config.eventLog(), Clock.systemUTC(), cluster.config.cluster());
      server = new AdminServer(cluster.config, loop, events, new Metrics(), Clock.systemUTC());
      server.start();
      thread =
          new Thread(
              () -> {
                try {
                  loop.run(running::get);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "control-loop");
      thread.start();
    }

    InetSocketAddress address() {
      return new InetSocketAddress("127.0.0.1", server.address().getPort());
    }

    URI uri(String path) {
      return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    }

    @Override
    public void close() throws Exception {
      running.set(false);
      server.close();
      thread.join(10_000);
      loop.close();
      if (thread.isAlive()) {
        fail("the loop did not stop");
      }
    }
  }
}
