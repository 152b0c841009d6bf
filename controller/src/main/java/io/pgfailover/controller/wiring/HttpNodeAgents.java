package io.pgfailover.controller.wiring;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.http.BoundedHttpServer;
import io.pgfailover.controller.http.Json;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.StepResult;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link NodeAgents} over the agents' HTTP API ({@code java.net.http}): every call bounded by its
 * timeout (the whole exchange, body included), the bearer token read once from the controller's
 * token file for that agent (owner-only, as the agent's own), every failure a value.
 */
public final class HttpNodeAgents implements NodeAgents {

  /** One node's agent: its base URL (e.g. {@code http://10.0.1.10:8009}) and token file. */
  public record Target(String node, URI url, Path tokenFile) {}

  /**
   * The calls' bounds.
   *
   * @param read GET /facts and GET /rejoin: keep it under the probe deadline, the loop reads facts
   * @param rejoin POST /rejoin: the agent probes the source and reads its own data directory first
   * @param action POST /start and /stop: longer than the agent's start and stop timeouts
   */
  public record Timeouts(Duration connect, Duration read, Duration rejoin, Duration action) {
    public static Timeouts defaults() {
      return new Timeouts(
          Duration.ofSeconds(1),
          Duration.ofSeconds(2),
          Duration.ofSeconds(15),
          Duration.ofSeconds(150));
    }
  }

  private record Agent(URI url, byte[] token) {}

  /** An HTTP answer: status and parsed body (empty when it was not JSON). */
  private record Answer(int status, Optional<JsonNode> body) {}

  /** Why there was no usable answer. */
  private static final class NoAnswer extends Exception {
    private static final long serialVersionUID = 1L;

    NoAnswer(String message) {
      super(message);
    }
  }

  private final Map<String, Agent> agents = new LinkedHashMap<>();
  private final Timeouts timeouts;
  private final HttpClient http;

  /**
   * Reads every token file now: one readable by others, or too short, throws {@link
   * IllegalStateException} naming the file and the fix.
   */
  public HttpNodeAgents(List<Target> targets, Timeouts timeouts) {
    for (Target t : targets) {
      agents.put(t.node(), new Agent(t.url(), BoundedHttpServer.readToken(t.tokenFile())));
    }
    this.timeouts = timeouts;
    this.http =
        HttpClient.newBuilder()
            .connectTimeout(timeouts.connect())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  @Override
  public boolean has(String node) {
    return agents.containsKey(node);
  }

  @Override
  public Reply<Facts> facts(String node) {
    return read(node, "/facts", Facts.class);
  }

  @Override
  public Reply<UpstreamView> upstream(String node) {
    return read(node, "/upstream", UpstreamView.class);
  }

  @Override
  public Reply<Rejoin> rejoinState(String node) {
    return read(node, "/rejoin", Rejoin.class);
  }

  private <T> Reply<T> read(String node, String path, Class<T> type) {
    try {
      Answer a = call(node, "GET", path, "", timeouts.read());
      if (a.status() != 200 || a.body().isEmpty()) {
        return Reply.failed(describe(node, a));
      }
      return Reply.of(Json.MAPPER.treeToValue(a.body().get(), type));
    } catch (NoAnswer e) {
      return Reply.failed(e.getMessage());
    } catch (IOException e) {
      return Reply.failed("the agent of " + node + " answered something else: " + e.getMessage());
    }
  }

  @Override
  public RejoinReply rejoin(String node, RejoinRequest request) {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("source", request.source());
    body.put("expectTimeline", request.expectTimeline());
    request.slot().ifPresent(s -> body.put("slot", s));
    request.applicationName().ifPresent(a -> body.put("applicationName", a));
    try {
      Answer a =
          call(node, "POST", "/rejoin", Json.MAPPER.writeValueAsString(body), timeouts.rejoin());
      if ((a.status() == 200 || a.status() == 202 || a.status() == 409)
          && a.body().isPresent()
          && a.body().get().has("outcome")) {
        JsonNode b = a.body().get();
        Optional<Rejoin> state =
            b.hasNonNull("rejoin")
                ? Optional.of(Json.MAPPER.treeToValue(b.get("rejoin"), Rejoin.class))
                : Optional.empty();
        return new RejoinReply(
            RejoinOutcome.valueOf(b.get("outcome").asText()), b.path("detail").asText(), state);
      }
      if (a.status() == 400) {
        return new RejoinReply(RejoinOutcome.REFUSED, describe(node, a), Optional.empty());
      }
      return new RejoinReply(RejoinOutcome.UNANSWERED, describe(node, a), Optional.empty());
    } catch (NoAnswer e) {
      return new RejoinReply(RejoinOutcome.UNANSWERED, e.getMessage(), Optional.empty());
    } catch (IOException | IllegalArgumentException e) {
      return new RejoinReply(
          RejoinOutcome.UNANSWERED,
          "the agent of " + node + " answered something else: " + e.getMessage(),
          Optional.empty());
    }
  }

  @Override
  public StepResult start(String node) {
    return service(node, "/start");
  }

  @Override
  public StepResult stop(String node) {
    return service(node, "/stop");
  }

  private StepResult service(String node, String path) {
    try {
      Answer a = call(node, "POST", path, "{}", timeouts.action());
      if ((a.status() == 200 || a.status() == 500)
          && a.body().isPresent()
          && a.body().get().has("ok")) {
        return Json.MAPPER.treeToValue(a.body().get(), StepResult.class);
      }
      return StepResult.failed(describe(node, a), Map.of());
    } catch (NoAnswer e) {
      return StepResult.failed(e.getMessage(), Map.of());
    } catch (IOException e) {
      return StepResult.failed(
          "the agent of " + node + " answered something else: " + e.getMessage(), Map.of());
    }
  }

  private Answer call(String node, String method, String path, String body, Duration timeout)
      throws NoAnswer {
    Agent agent = agents.get(node);
    if (agent == null) {
      throw new NoAnswer("node " + node + " has no agent configured");
    }
    URI uri = agent.url().resolve(path);
    HttpRequest request =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Authorization", "Bearer " + new String(agent.token(), StandardCharsets.UTF_8))
            .header("Content-Type", "application/json")
            .method(
                method,
                method.equals("GET")
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    CompletableFuture<HttpResponse<String>> f =
        http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
    try {
      // The request's own timeout ends at the response's headers; this bounds the body too.
      HttpResponse<String> r = f.get(timeout.toMillis() + 200, TimeUnit.MILLISECONDS);
      Optional<JsonNode> json;
      try {
        json = Optional.of(Json.MAPPER.readTree(r.body()));
      } catch (IOException e) {
        json = Optional.empty();
      }
      return new Answer(r.statusCode(), json);
    } catch (TimeoutException e) {
      f.cancel(true);
      throw silent(node, uri, timeout);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof java.net.http.HttpTimeoutException) {
        throw silent(node, uri, timeout);
      }
      if (cause instanceof ConnectException) {
        throw new NoAnswer(
            "the agent of "
                + node
                + " at "
                + uri
                + " refused the connection (is failoverctl agent"
                + " running there, listening on that address?)");
      }
      throw new NoAnswer("the agent of " + node + " at " + uri + " cannot be reached: " + cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new NoAnswer("interrupted while asking the agent of " + node);
    }
  }

  private static NoAnswer silent(String node, URI uri, Duration timeout) {
    return new NoAnswer(
        "the agent of "
            + node
            + " at "
            + uri
            + " did not answer within "
            + timeout.toMillis()
            + " ms");
  }

  private static String describe(String node, Answer a) {
    String error = a.body().map(b -> b.path("error").asText("")).orElse("");
    if (a.status() == 401 || a.status() == 403) {
      return "the agent of "
          + node
          + " refused the token (HTTP "
          + a.status()
          + "): its tokenFile and the controller's must hold the same token";
    }
    return "the agent of "
        + node
        + " answered HTTP "
        + a.status()
        + (error.isEmpty() ? "" : ": " + error);
  }
}
