package io.pgfailover.controller.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.loop.Step;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP API on the JDK's HttpServer: GET /health, /status, /metrics; POST /failover,
 * /switchover (bearer token from a file only its owner can read). Requests are handed to the
 * control loop's queue, so an operator and the automatic loop never act at the same time.
 *
 * <p>A client cannot tie it up: a request must arrive whole (request line, headers, body) within
 * {@link #REQUEST_READ_SECONDS} or its connection is closed, headers and body are bounded in size,
 * and there are more handler threads than the few slow clients that would otherwise starve {@code
 * /health} (each holds a thread only until its request times out). Paths match exactly.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

  /**
   * How long a POST waits for the loop to carry the request out (promotion and route switch
   * included).
   */
  static final Duration REQUEST_WAIT = Duration.ofMinutes(3);

  /**
   * A request must have arrived and been read whole within this (the server checks every second).
   * Our own clients send theirs at once.
   */
  static final int REQUEST_READ_SECONDS = 5;

  /** The request line and headers together; ours are a few hundred bytes. */
  static final int MAX_HEADER_BYTES = 8 * 1024;

  static final int MAX_HEADERS = 32;
  static final int MAX_BODY_BYTES = 64 * 1024;
  static final int HANDLER_THREADS = 16;

  /** Beyond this a new connection is closed at once: bounds what slow clients can hold open. */
  static final int MAX_CONNECTIONS = 64;

  static {
    // The JDK's HttpServer reads these once, when the first server is created
    // (sun.net.httpserver.ServerConfig, JDK 17): without them it has no time limit on reading a
    // request, so a client that trickles its headers holds a handler thread for ever.
    System.setProperty("sun.net.httpserver.maxReqTime", String.valueOf(REQUEST_READ_SECONDS));
    System.setProperty("sun.net.httpserver.maxReqHeaderSize", String.valueOf(MAX_HEADER_BYTES));
    System.setProperty("sun.net.httpserver.maxReqHeaders", String.valueOf(MAX_HEADERS));
    System.setProperty("jdk.httpserver.maxConnections", String.valueOf(MAX_CONNECTIONS));
    // A connection that sends nothing at all is closed by the idle check after maxReqTime; it runs
    // every 10 s unless told otherwise.
    System.setProperty("sun.net.httpserver.clockTick", "1000");
  }

  private final HttpServer server;
  private final ExecutorService handlers;
  private final ControllerConfig config;
  private final ControlLoop loop;
  private final EventLog events;
  private final Metrics metrics;
  private final Clock clock;
  private final Optional<byte[]> token;

  public AdminServer(
      ControllerConfig config, ControlLoop loop, EventLog events, Metrics metrics, Clock clock)
      throws IOException {
    this.config = config;
    this.loop = loop;
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.token = config.admin().tokenFile().map(AdminServer::readToken);
    InetSocketAddress listen =
        new InetSocketAddress(
            config.admin().listen().getHostString(), config.admin().listen().getPort());
    this.server = HttpServer.create(listen, 16);
    this.handlers =
        Executors.newFixedThreadPool(
            HANDLER_THREADS,
            r -> {
              Thread t = new Thread(r, "admin-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(handlers);
    Map<String, Endpoint> endpoints =
        Map.of(
            "/health", new Endpoint("GET", this::health),
            "/status", new Endpoint("GET", this::status),
            "/metrics",
                new Endpoint(
                    "GET", ex -> send(ex, 200, "text/plain; version=0.0.4", metrics.render())),
            "/failover", new Endpoint("POST", ex -> request(ex, true)),
            "/switchover", new Endpoint("POST", ex -> request(ex, false)));
    // One context for every path: the JDK matches contexts by prefix, so "/statusXYZ" would be
    // served as "/status".
    server.createContext("/", ex -> route(endpoints, ex));
  }

  private record Endpoint(String method, HttpHandler handler) {}

  private static void route(Map<String, Endpoint> endpoints, HttpExchange ex) throws IOException {
    String path = ex.getRequestURI().getPath();
    Endpoint e = endpoints.get(path);
    if (e != null && e.method().equals(ex.getRequestMethod())) {
      e.handler().handle(ex);
      return;
    }
    int status = e == null ? 404 : 405;
    // Both come from the client: quoted, so that a %0A in the path cannot start a log line.
    log.info(
        "event=admin_refused status={} method={} path={} remote={}",
        status,
        LogText.quoted(ex.getRequestMethod()),
        LogText.quoted(path),
        ex.getRemoteAddress());
    if (e == null) {
      send(ex, 404, "application/json", "{\"error\":\"no such endpoint\"}");
    } else {
      ex.getResponseHeaders().set("Allow", e.method());
      send(ex, 405, "application/json", "{\"error\":\"use " + e.method() + "\"}");
    }
  }

  public void start() {
    server.start();
    // As the operator wrote it (a wildcard bind reads as "::" otherwise), with the port it got.
    String address = config.admin().listen().getHostString() + ":" + address().getPort();
    log.info(
        "event=admin_listening address={} token={}",
        address,
        token.isPresent() ? "required" : "absent (POST refused)");
    if (!address().getAddress().isLoopbackAddress()) {
      log.warn(
          "event=admin_listen_not_loopback address={} why=\"every host that reaches this address"
              + " can read /status and /metrics and try tokens on POST /failover\" fix=\"set"
              + " admin.listen to 127.0.0.1:PORT unless remote access is meant, and firewall the"
              + " port\"",
          address);
    }
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  /** Reads the token file, refusing one that group or others can read: it guards promotion. */
  public static byte[] readToken(Path file) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.stream()
          .anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
        throw new IllegalStateException(
            "admin token file " + file + " is readable by group or others; fix: chmod 600 " + file);
      }
      byte[] t = Files.readString(file).strip().getBytes(StandardCharsets.UTF_8);
      if (t.length < 16) {
        throw new IllegalStateException(
            "admin token in "
                + file
                + " is shorter than 16 characters; fix: head -c 32 /dev/urandom | base64 > "
                + file);
      }
      return t;
    } catch (IOException e) {
      throw new IllegalStateException(
          "cannot read admin token file " + file + ": " + e.getMessage(), e);
    }
  }

  private void health(HttpExchange ex) throws IOException {
    Optional<LoopReport> last = loop.last();
    long ageMs = last.map(r -> Duration.between(r.at(), clock.instant()).toMillis()).orElse(-1L);
    boolean fresh =
        last.isPresent()
            && ageMs
                <= config.probe().interval().toMillis() * 3
                    + config.probe().timeout().toMillis() * 2;
    ObjectNode body = StatusView.JSON.createObjectNode();
    body.put("status", fresh ? "ok" : "stalled");
    body.put("last_loop_age_ms", ageMs);
    send(ex, fresh ? 200 : 503, "application/json", body.toString());
  }

  private void status(HttpExchange ex) throws IOException {
    Optional<LoopReport> last = loop.last();
    if (last.isEmpty()) {
      send(ex, 503, "application/json", "{\"error\":\"no loop has run yet\"}");
      return;
    }
    send(
        ex,
        200,
        "application/json",
        StatusView.toJson(config, last.get(), events.tail(20), loop.leadership().view())
            .toString());
  }

  private void request(HttpExchange ex, boolean failover) throws IOException {
    if (token.isEmpty()) {
      send(
          ex,
          403,
          "application/json",
          "{\"error\":\"no admin.tokenFile configured: POST endpoints are off\"}");
      return;
    }
    String auth = Optional.ofNullable(ex.getRequestHeaders().getFirst("Authorization")).orElse("");
    byte[] given =
        auth.startsWith("Bearer ")
            ? auth.substring(7).strip().getBytes(StandardCharsets.UTF_8)
            : new byte[0];
    if (!MessageDigest.isEqual(given, token.get())) {
      log.warn(
          "event=admin_denied path={} remote={}",
          LogText.quoted(ex.getRequestURI().getPath()),
          ex.getRemoteAddress());
      send(ex, 401, "application/json", "{\"error\":\"missing or wrong bearer token\"}");
      return;
    }
    JsonNode body;
    try (InputStream in = ex.getRequestBody()) {
      byte[] raw = in.readNBytes(MAX_BODY_BYTES + 1);
      if (raw.length > MAX_BODY_BYTES) {
        send(
            ex,
            413,
            "application/json",
            "{\"error\":\"body is larger than " + MAX_BODY_BYTES + " bytes\"}");
        return;
      }
      body = raw.length == 0 ? StatusView.JSON.createObjectNode() : StatusView.JSON.readTree(raw);
    } catch (IOException e) {
      send(ex, 400, "application/json", "{\"error\":\"body is not JSON\"}");
      return;
    }
    Request r;
    if (failover) {
      r =
          new Request.Failover(
              body.hasNonNull("to") ? Optional.of(body.get("to").asText()) : Optional.empty(),
              body.path("force").asBoolean(false));
    } else if (body.hasNonNull("to")) {
      r = new Request.Switchover(body.get("to").asText());
    } else {
      send(ex, 400, "application/json", "{\"error\":\"switchover needs {\\\"to\\\": NODE}\"}");
      return;
    }
    log.info(
        "event=admin_request request={} remote={}",
        LogText.quoted(r.toString()),
        ex.getRemoteAddress());
    try {
      LoopReport report = loop.submit(r).get(REQUEST_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      send(ex, httpStatus(report), "application/json", result(report).toString());
    } catch (java.util.concurrent.TimeoutException e) {
      send(
          ex,
          504,
          "application/json",
          "{\"error\":\"the loop did not finish the request in "
              + REQUEST_WAIT.toSeconds()
              + " s; check status\"}");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      send(ex, 503, "application/json", "{\"error\":\"the daemon is shutting down\"}");
    } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
      log.error(
          "event=admin_request_bug request={} error={}",
          LogText.quoted(r.toString()),
          LogText.quoted(e.toString()),
          e);
      ObjectNode err = StatusView.JSON.createObjectNode();
      err.put("error", "request failed inside the daemon: " + e);
      send(ex, 500, "application/json", err.toString());
    }
  }

  /** 200 done, 409 refused by a guard, 500 an action failed. */
  static int httpStatus(LoopReport r) {
    if (!r.ok()) {
      return 500;
    }
    Reason reason = r.decision().reason();
    return reason == Reason.MANUAL_FAILOVER || reason == Reason.SWITCHOVER ? 200 : 409;
  }

  public static ObjectNode result(LoopReport r) {
    ObjectNode o = StatusView.JSON.createObjectNode();
    o.put("reason", r.decision().reason().name());
    o.put("message", r.decision().message());
    o.put("ok", r.ok());
    o.set("steps", StatusView.JSON.valueToTree(r.steps().stream().map(Step::toString).toList()));
    o.put("refused", r.refused());
    r.timeline().ifPresent(t -> o.set("timeline", StatusView.JSON.valueToTree(t)));
    return o;
  }

  private static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    handlers.shutdownNow();
  }
}
