package io.pgfailover.controller.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.http.BoundedHttpServer;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.loop.Step;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP API: GET /health, /status, /metrics; POST /failover, /switchover (bearer token
 * from a file only its owner can read). Requests are handed to the control loop's queue, so an
 * operator and the automatic loop never act at the same time. The server's protections (request
 * time and size, exact paths, escaped logs) are {@link BoundedHttpServer}'s.
 */
public final class AdminServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);

  /**
   * How long a POST waits for the loop to carry the request out (promotion and route switch
   * included).
   */
  static final Duration REQUEST_WAIT = Duration.ofMinutes(3);

  private final BoundedHttpServer server;
  private final ControllerConfig config;
  private final ControlLoop loop;
  private final EventLog events;
  private final Clock clock;
  private final boolean tokenConfigured;

  public AdminServer(
      ControllerConfig config, ControlLoop loop, EventLog events, Metrics metrics, Clock clock)
      throws IOException {
    this.config = config;
    this.loop = loop;
    this.events = events;
    this.clock = clock;
    Optional<byte[]> token = config.admin().tokenFile().map(BoundedHttpServer::readToken);
    this.tokenConfigured = token.isPresent();
    List<BoundedHttpServer.Endpoint> endpoints =
        List.of(
            new BoundedHttpServer.Endpoint("GET", "/health", false, this::health),
            new BoundedHttpServer.Endpoint("GET", "/status", false, this::status),
            new BoundedHttpServer.Endpoint(
                "GET",
                "/metrics",
                false,
                ex ->
                    BoundedHttpServer.send(ex, 200, "text/plain; version=0.0.4", metrics.render())),
            new BoundedHttpServer.Endpoint(
                "POST", "/failover", true, ex -> request(ex, AdminServer::failover)),
            new BoundedHttpServer.Endpoint(
                "POST", "/switchover", true, ex -> request(ex, AdminServer::switchover)),
            new BoundedHttpServer.Endpoint(
                "POST", "/rejoin", true, ex -> request(ex, AdminServer::rejoin)));
    this.server =
        new BoundedHttpServer(
            "admin",
            config.admin().listen(),
            token,
            "no admin.tokenFile configured: POST endpoints are off",
            endpoints,
            request -> {});
  }

  public void start() {
    server.start();
    // As the operator wrote it (a wildcard bind reads as "::" otherwise), with the port it got.
    String address = config.admin().listen().getHostString() + ":" + address().getPort();
    log.info(
        "event=admin_listening address={} token={}",
        address,
        tokenConfigured ? "required" : "absent (POST refused)");
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
    return server.address();
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
    BoundedHttpServer.send(ex, fresh ? 200 : 503, "application/json", body.toString());
  }

  private void status(HttpExchange ex) throws IOException {
    Optional<LoopReport> last = loop.last();
    if (last.isEmpty()) {
      BoundedHttpServer.send(ex, 503, "application/json", "{\"error\":\"no loop has run yet\"}");
      return;
    }
    BoundedHttpServer.send(
        ex,
        200,
        "application/json",
        StatusView.toJson(config, last.get(), events.tail(20), loop.leadership().view())
            .toString());
  }

  /** {@code {"to": NODE?, "force": false}} */
  private static Optional<Request> failover(JsonNode body) {
    return Optional.of(
        new Request.Failover(
            body.hasNonNull("to") ? Optional.of(body.get("to").asText()) : Optional.empty(),
            body.path("force").asBoolean(false)));
  }

  /** {@code {"to": NODE}} */
  private static Optional<Request> switchover(JsonNode body) {
    return body.hasNonNull("to")
        ? Optional.of(new Request.Switchover(body.get("to").asText()))
        : Optional.empty();
  }

  /** {@code {"node": NODE}} */
  private static Optional<Request> rejoin(JsonNode body) {
    return body.hasNonNull("node")
        ? Optional.of(new Request.Rejoin(body.get("node").asText()))
        : Optional.empty();
  }

  private void request(
      HttpExchange ex, java.util.function.Function<JsonNode, Optional<Request>> parse)
      throws IOException {
    Optional<JsonNode> parsed = BoundedHttpServer.jsonBody(ex);
    if (parsed.isEmpty()) {
      return;
    }
    Optional<Request> asked = parse.apply(parsed.get());
    if (asked.isEmpty()) {
      BoundedHttpServer.send(
          ex,
          400,
          "application/json",
          "{\"error\":\"the body names no node: switchover needs {\\\"to\\\": NODE}, rejoin"
              + " {\\\"node\\\": NODE}\"}");
      return;
    }
    Request r = asked.get();
    log.info(
        "event=admin_request request={} remote={}",
        LogText.quoted(r.toString()),
        ex.getRemoteAddress());
    try {
      LoopReport report = loop.submit(r).get(REQUEST_WAIT.toMillis(), TimeUnit.MILLISECONDS);
      BoundedHttpServer.send(ex, httpStatus(report), "application/json", result(report).toString());
    } catch (java.util.concurrent.TimeoutException e) {
      BoundedHttpServer.send(
          ex,
          504,
          "application/json",
          "{\"error\":\"the loop did not finish the request in "
              + REQUEST_WAIT.toSeconds()
              + " s; check status\"}");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      BoundedHttpServer.send(
          ex, 503, "application/json", "{\"error\":\"the daemon is shutting down\"}");
    } catch (java.util.concurrent.ExecutionException | RuntimeException e) {
      log.error(
          "event=admin_request_bug request={} error={}",
          LogText.quoted(r.toString()),
          LogText.quoted(e.toString()),
          e);
      ObjectNode err = StatusView.JSON.createObjectNode();
      err.put("error", "request failed inside the daemon: " + e);
      BoundedHttpServer.send(ex, 500, "application/json", err.toString());
    }
  }

  /** 200 done, 409 refused by a guard, 500 an action failed. */
  static int httpStatus(LoopReport r) {
    if (!r.ok()) {
      return 500;
    }
    Reason reason = r.decision().reason();
    return reason.carriesOutARequest() ? 200 : 409;
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

  @Override
  public void close() {
    server.close();
  }
}
