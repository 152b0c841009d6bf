package io.pgfailover.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.admin.StatusView;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.http.BoundedHttpServer;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * Talks to a running daemon's admin API. Only a refused connection (nothing listens on {@code
 * admin.listen}) means that no daemon runs; any other failure (a timeout, a reset, an error status,
 * an answer that is not HTTP) may be a daemon in trouble, and acting beside it is what {@link
 * Unreachable} refuses.
 */
final class AdminClient {
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);
  static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build();
  private final URI base;
  private final String host;
  private final int port;
  private final ControllerConfig config;

  AdminClient(ControllerConfig config) {
    this.config = config;
    String h = config.admin().listen().getHostString();
    // A daemon listening on every address answers on loopback.
    this.host = h.equals("0.0.0.0") ? "127.0.0.1" : h.equals("::") ? "::1" : h;
    this.port = config.admin().listen().getPort();
    this.base = URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
  }

  /** The admin API could not be used although a daemon may be running: nothing must be done. */
  static final class Unreachable extends Exception {
    Unreachable(String message) {
      super(message);
    }
  }

  enum Daemon {
    /** A daemon answered {@code /health} with 200: it is the one to act. */
    ANSWERS,
    /** Nothing listens on admin.listen: no daemon runs (or it has not opened its API yet). */
    NOT_LISTENING
  }

  /** Whether a daemon runs, by {@code GET /health}; throws when that cannot be told. */
  Daemon probe() throws Unreachable, InterruptedException {
    if (!listening()) {
      return Daemon.NOT_LISTENING;
    }
    HttpResponse<String> r = get("/health");
    if (r.statusCode() != 200) {
      throw unreachable("/health", "it answered HTTP " + r.statusCode() + " " + r.body().strip());
    }
    return Daemon.ANSWERS;
  }

  /** The daemon's status document, or empty when nothing listens on admin.listen. */
  Optional<JsonNode> status() throws Unreachable, InterruptedException {
    if (!listening()) {
      return Optional.empty();
    }
    HttpResponse<String> r = get("/status");
    if (r.statusCode() != 200) {
      throw unreachable("/status", "it answered HTTP " + r.statusCode() + " " + r.body().strip());
    }
    try {
      return Optional.of(StatusView.JSON.readTree(r.body()));
    } catch (IOException e) {
      throw unreachable("/status", "its answer is not JSON: " + e.getMessage());
    }
  }

  /**
   * Whether anything accepts a connection on admin.listen. A refused connection is the one sure
   * sign that nothing does; this connect has its own timeout, so a {@link ConnectException} here is
   * a refusal and not the kernel's own connect timeout (minutes).
   */
  private boolean listening() throws Unreachable {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), (int) CONNECT_TIMEOUT.toMillis());
      return true;
    } catch (ConnectException e) {
      return false;
    } catch (IOException e) {
      throw unreachable("a connection", "connecting failed: " + e);
    }
  }

  private HttpResponse<String> get(String path) throws Unreachable, InterruptedException {
    try {
      return http.send(
          HttpRequest.newBuilder(base.resolve(path)).timeout(PROBE_TIMEOUT).GET().build(),
          HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw unreachable(path, describe(e));
    }
  }

  private Unreachable unreachable(String what, String problem) {
    String address = config.admin().listenText();
    return new Unreachable(
        "the daemon's admin API on "
            + address
            + " did not answer "
            + what
            + " properly ("
            + problem
            + "). A daemon may be running there, so nothing was done: only a refused connection"
            + " means that no daemon runs. Check: systemctl status pgfailover; journalctl -u"
            + " pgfailover -n 50; curl -sS "
            + base
            + "/health. If no daemon should run, see what listens there: ss -ltnp 'sport = :"
            + port
            + "'");
  }

  private static String describe(IOException e) {
    if (e instanceof java.net.http.HttpTimeoutException) {
      return "no answer in time: " + e.getMessage();
    }
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return e + (root == e ? "" : " caused by " + root);
  }

  record Answer(int httpStatus, JsonNode body) {}

  /**
   * Sends an operator's request to the daemon; a failure here means the request may or may not be
   * carried out, which the message says.
   */
  Answer post(String path, String json) throws Unreachable, InterruptedException {
    byte[] token =
        config
            .admin()
            .tokenFile()
            .map(BoundedHttpServer::readToken)
            .orElseThrow(
                () ->
                    new IllegalStateException(
                        "admin.tokenFile is not configured: the daemon refuses POST requests"));
    HttpRequest req =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofMinutes(4))
            .header("Authorization", "Bearer " + new String(token, StandardCharsets.UTF_8))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build();
    HttpResponse<String> r;
    try {
      r = http.send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new Unreachable(
          "the request went to the daemon on "
              + config.admin().listenText()
              + " but no answer came back ("
              + describe(e)
              + "): the daemon may still carry it out. Check failoverctl status before trying"
              + " again.");
    }
    try {
      return new Answer(
          r.statusCode(), StatusView.JSON.readTree(r.body().isEmpty() ? "{}" : r.body()));
    } catch (IOException e) {
      throw new Unreachable(
          "the daemon on "
              + config.admin().listenText()
              + " answered HTTP "
              + r.statusCode()
              + " with a body that is not JSON: check failoverctl status before trying again.");
    }
  }
}
