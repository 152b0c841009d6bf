package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Imds against an in-process HTTP server that behaves like IMDSv2: no token, no metadata. */
class ImdsTest {
  private static final String TOKEN = "AQAEAtoken==";
  private static final Map<String, String> METADATA =
      Map.of(
          "/latest/meta-data/instance-id", "i-0123456789abcdef0",
          "/latest/meta-data/placement/region", "eu-west-1",
          "/latest/meta-data/placement/availability-zone", "eu-west-1b");

  private final List<String> requests = new CopyOnWriteArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private HttpServer server;

  @AfterEach
  void stop() {
    release.countDown();
    if (server != null) {
      server.stop(0);
    }
  }

  private URI start(boolean hang) throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
          if (hang) {
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
            exchange.close();
            return;
          }
          handle(exchange);
        });
    server.start();
    return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  private static void handle(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    if (path.equals("/latest/api/token")) {
      String ttl = exchange.getRequestHeaders().getFirst("X-aws-ec2-metadata-token-ttl-seconds");
      if (!exchange.getRequestMethod().equals("PUT") || ttl == null) {
        respond(exchange, 400, "");
      } else {
        respond(exchange, 200, TOKEN);
      }
      return;
    }
    if (!TOKEN.equals(exchange.getRequestHeaders().getFirst("X-aws-ec2-metadata-token"))) {
      respond(exchange, 401, ""); // IMDSv2 required: a request without the token is refused
      return;
    }
    String value = METADATA.get(path);
    respond(exchange, value == null ? 404 : 200, value == null ? "" : value);
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      exchange.getResponseBody().write(bytes);
    }
    exchange.close();
  }

  @Test
  void discoversInstanceRegionAndZoneWithASessionToken() throws IOException {
    Imds imds = new Imds(start(false), Duration.ofSeconds(2));

    Optional<SelfIdentity> self = imds.discover();

    assertEquals(
        Optional.of(new SelfIdentity("i-0123456789abcdef0", "eu-west-1", "eu-west-1b")), self);
    assertEquals("PUT /latest/api/token", requests.get(0), "the token comes first");
    assertEquals(4, requests.size());
  }

  @Test
  void emptyWhenTheTokenIsRefused() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
          respond(exchange, 403, "");
        });
    server.start();

    Optional<SelfIdentity> self =
        new Imds(
                URI.create("http://127.0.0.1:" + server.getAddress().getPort()),
                Duration.ofSeconds(2))
            .discover();

    assertEquals(Optional.empty(), self);
    assertEquals(List.of("PUT /latest/api/token"), requests, "no IMDSv1 fallback without a token");
  }

  @Test
  void emptyWhenNothingListens() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    assertEquals(
        Optional.empty(),
        new Imds(URI.create("http://127.0.0.1:" + port), Duration.ofSeconds(1)).discover());
  }

  @Test
  void emptyWhenTheServiceDoesNotAnswerInTime() throws IOException {
    URI endpoint = start(true);

    Optional<SelfIdentity> self = new Imds(endpoint, Duration.ofMillis(300)).discover();

    assertEquals(Optional.empty(), self);
    assertTrue(requests.size() <= 1, requests.toString());
  }
}
