package io.pgfailover.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.admin.AdminServer;
import io.pgfailover.controller.admin.StatusView;
import io.pgfailover.controller.config.ControllerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** Talks to a running daemon's admin API; {@link #probe} tells whether one runs at all. */
final class AdminClient {
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private final URI base;
  private final ControllerConfig config;

  AdminClient(ControllerConfig config) {
    this.config = config;
    String host = config.admin().listen().getHostString();
    if (host.equals("0.0.0.0")) {
      host = "127.0.0.1";
    }
    this.base = URI.create("http://" + host + ":" + config.admin().listen().getPort());
  }

  /**
   * Whether a daemon answers /health (any HTTP answer counts: a stalled daemon is still the actor).
   */
  boolean probe() {
    try {
      http.send(
          HttpRequest.newBuilder(base.resolve("/health"))
              .timeout(Duration.ofSeconds(2))
              .GET()
              .build(),
          HttpResponse.BodyHandlers.discarding());
      return true;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  Optional<JsonNode> status() throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(base.resolve("/status"))
                .timeout(Duration.ofSeconds(5))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    return r.statusCode() == 200
        ? Optional.of(StatusView.JSON.readTree(r.body()))
        : Optional.empty();
  }

  record Answer(int httpStatus, JsonNode body) {}

  Answer post(String path, String json) throws IOException, InterruptedException {
    byte[] token =
        config
            .admin()
            .tokenFile()
            .map(AdminServer::readToken)
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
    HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
    return new Answer(
        r.statusCode(), StatusView.JSON.readTree(r.body().isEmpty() ? "{}" : r.body()));
  }
}
