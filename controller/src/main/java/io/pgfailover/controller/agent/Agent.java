package io.pgfailover.controller.agent;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import io.pgfailover.controller.config.AgentConfig;
import io.pgfailover.controller.events.ActorLock;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.http.BoundedHttpServer;
import io.pgfailover.controller.http.Json;
import io.pgfailover.controller.port.NodeAgents.RejoinRequest;
import io.pgfailover.controller.port.NodeAgents.UpstreamView;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.controller.port.StepResult;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent: one per PostgreSQL host, owning its PostgreSQL service and data directory and
 * nothing else (it never calls AWS and never decides a failover). Its HTTP API, on the configured
 * address only, with {@link BoundedHttpServer}'s protections and the bearer token on everything but
 * {@code GET /health}:
 *
 * <ul>
 *   <li>{@code GET /health}: 200 {@code {"status":"ok","node":...}};
 *   <li>{@code GET /facts}: 200, the node's facts (they answer while PostgreSQL is down);
 *   <li>{@code GET /upstream}: 200 {@code {"upstream":...}}, what the facts say of the upstream
 *       alone (no pg_controldata run: cheap enough to ask again within a loop), {@code null} where
 *       it watches none;
 *   <li>{@code POST /start}, {@code POST /stop} ({@code {"mode":"fast"}}): 200 done or already so,
 *       500 failed, 409 while a rejoin runs; {@code {"ok","changed","detail","fields"}};
 *   <li>{@code POST /rejoin} {@code {"source","expectTimeline","slot","applicationName"}}: 202
 *       started or continues, 200 nothing to do, 409 refused, 400 malformed; {@code {"outcome",
 *       "detail","rejoin"}};
 *   <li>{@code GET /rejoin}: 200, the current or last rejoin.
 * </ul>
 *
 * Every request is logged in one line; every POST and every refused request is also written to the
 * agent's event history (reads are not: the controllers poll {@code /facts} every loop, which would
 * rotate the actions out of the history within days).
 */
public final class Agent implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Agent.class);

  private final AgentConfig config;
  private final ActorLock lock;
  private final EventLog events;
  private final LocalPostgres pg;
  private final Rejoiner rejoiner;
  private final UpstreamWatch upstream;
  private final BoundedHttpServer server;

  private Agent(AgentConfig config, Clock clock, Consumer<RejoinPhase> beforePhase)
      throws IOException, ActorLock.HeldException {
    this.config = config;
    byte[] token = BoundedHttpServer.readToken(config.tokenFile());
    Tools.OsUser osUser = Tools.resolve(config.postgres().osUser());
    this.lock = ActorLock.acquire(config.eventLog().lockFile(), "agent");
    try {
      // The node name stands in the history's "cluster" field: an agent serves one node.
      this.events = new EventLog(config.eventLog(), clock, config.node());
      Path scratch = config.eventLog().path().toAbsolutePath().getParent();
      Path toolLog = scratch.resolve("tools.log");
      Tools tools = new Tools(osUser, scratch);
      this.pg = new LocalPostgres(config, tools, toolLog, events);
      this.rejoiner = new Rejoiner(config, pg, tools, toolLog, events, clock, beforePhase);
      this.upstream = new UpstreamWatch(config, pg::upstream);
      this.server =
          new BoundedHttpServer(
              "agent",
              config.listen(),
              Optional.of(token),
              "no token configured",
              List.of(
                  new BoundedHttpServer.Endpoint("GET", "/health", false, this::health),
                  new BoundedHttpServer.Endpoint("GET", "/facts", true, this::facts),
                  new BoundedHttpServer.Endpoint("GET", "/upstream", true, this::upstream),
                  new BoundedHttpServer.Endpoint("POST", "/start", true, ex -> service(ex, true)),
                  new BoundedHttpServer.Endpoint("POST", "/stop", true, ex -> service(ex, false)),
                  new BoundedHttpServer.Endpoint("POST", "/rejoin", true, this::rejoin),
                  new BoundedHttpServer.Endpoint("GET", "/rejoin", true, this::rejoinState)),
              this::answered);
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /**
   * Starts the agent: reads its token (owner-only), looks up the PostgreSQL OS user, takes the
   * host's lock beside its event history (one agent per history) and listens.
   *
   * @throws ActorLock.HeldException another agent runs with this event history
   */
  public static Agent start(AgentConfig config, Clock clock)
      throws IOException, ActorLock.HeldException {
    return start(config, clock, phase -> {});
  }

  /**
   * As {@link #start(AgentConfig, Clock)}; {@code beforePhase} runs as each rejoin phase begins.
   */
  static Agent start(AgentConfig config, Clock clock, Consumer<RejoinPhase> beforePhase)
      throws IOException, ActorLock.HeldException {
    Agent a = new Agent(config, clock, beforePhase);
    a.server.start();
    a.upstream.start();
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("listen", config.listenText());
    f.put("data_directory", config.postgres().dataDirectory().toString());
    f.put("rejoin", a.rejoiner.state().state().name());
    a.events.append("agent_started", f);
    log.info(
        "event=agent_listening node={} address={} data_directory={} service={} last_rejoin={}",
        config.node(),
        config.listenText(),
        config.postgres().dataDirectory(),
        config.postgres().start().isPresent() ? "explicit commands" : config.postgres().service(),
        a.rejoiner.state().state());
    return a;
  }

  public InetSocketAddress address() {
    return server.address();
  }

  private void health(HttpExchange ex) throws IOException {
    json(ex, 200, Json.MAPPER.createObjectNode().put("status", "ok").put("node", config.node()));
  }

  private void facts(HttpExchange ex) throws IOException {
    json(ex, 200, pg.facts(rejoiner.state(), upstream.view()));
  }

  private void upstream(HttpExchange ex) throws IOException {
    json(ex, 200, new UpstreamView(upstream.view()));
  }

  private void rejoinState(HttpExchange ex) throws IOException {
    json(ex, 200, rejoiner.state());
  }

  private void service(HttpExchange ex, boolean start) throws IOException {
    Optional<JsonNode> body = BoundedHttpServer.jsonBody(ex);
    if (body.isEmpty()) {
      return;
    }
    String mode = body.get().path("mode").asText("fast");
    if (!start && !mode.equals("fast")) {
      BoundedHttpServer.send(
          ex, 400, "application/json", Json.error("mode \"" + mode + "\": only fast is offered"));
      return;
    }
    String why = "requested by " + ex.getRemoteAddress();
    // Start and stop are the rejoin's to do while it runs.
    Optional<StepResult> r = rejoiner.unlessRejoining(() -> start ? pg.start(why) : pg.stop(why));
    if (r.isEmpty()) {
      BoundedHttpServer.send(
          ex,
          409,
          "application/json",
          Json.error(
              "a rejoin runs (" + rejoiner.state().state() + "): start and stop wait for it"));
      return;
    }
    json(ex, r.get().ok() ? 200 : 500, r.get());
  }

  private void rejoin(HttpExchange ex) throws IOException {
    Optional<JsonNode> body = BoundedHttpServer.jsonBody(ex);
    if (body.isEmpty()) {
      return;
    }
    JsonNode b = body.get();
    RejoinRequest request;
    try {
      if (!b.path("source").isTextual() || !b.path("expectTimeline").canConvertToLong()) {
        throw new IllegalArgumentException(
            "a rejoin needs {\"source\": \"host:port\", \"expectTimeline\": N}");
      }
      request =
          new RejoinRequest(
              b.get("source").asText(),
              b.get("expectTimeline").asLong(),
              text(b, "slot"),
              text(b, "applicationName"));
      Rejoiner.Answer a = rejoiner.request(request);
      int status =
          switch (a.outcome()) {
            case STARTED, CONTINUES -> 202;
            case NOTHING_TO_DO -> 200;
            default -> 409;
          };
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("outcome", a.outcome());
      out.put("detail", a.detail());
      out.put("rejoin", a.rejoin());
      json(ex, status, out);
    } catch (IllegalArgumentException e) {
      BoundedHttpServer.send(ex, 400, "application/json", Json.error(e.getMessage()));
    }
  }

  private static Optional<String> text(JsonNode b, String field) {
    return b.hasNonNull(field) ? Optional.of(b.get(field).asText()) : Optional.empty();
  }

  private static void json(HttpExchange ex, int status, Object body) throws IOException {
    BoundedHttpServer.send(ex, status, "application/json", Json.MAPPER.writeValueAsString(body));
  }

  /** One log line per request; POSTs and refusals into the history too. */
  private void answered(BoundedHttpServer.Request r) {
    if (r.outcome() == BoundedHttpServer.Outcome.SERVED) {
      log.info(
          "event=agent_request method={} path={} status={} ms={} remote={}",
          LogText.quoted(r.method()),
          LogText.quoted(r.path()),
          r.status(),
          r.elapsedMs(),
          r.remote());
    }
    if (r.outcome() != BoundedHttpServer.Outcome.SERVED || !r.method().equals("GET")) {
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("method", r.method());
      f.put("path", r.path());
      f.put("status", r.status());
      f.put("outcome", r.outcome().name());
      f.put("remote", r.remote());
      f.put("ms", r.elapsedMs());
      events.append("request", f);
    }
  }

  /** The running postmaster, for tests and the daemon's start line. */
  OptionalLong postmasterPid() {
    return pg.postmasterPid();
  }

  EventLog events() {
    return events;
  }

  @Override
  public void close() {
    server.close();
    upstream.close();
    rejoiner.close();
    pg.close();
    events.append("agent_stopped", Map.of("rejoin", rejoiner.state().state().name()));
    try {
      lock.close();
    } catch (IOException e) {
      log.warn("event=agent_lock_not_released error={}", LogText.quoted(e.toString()));
    }
  }
}
