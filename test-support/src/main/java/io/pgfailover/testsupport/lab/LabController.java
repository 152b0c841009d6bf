package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.testsupport.Waits;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One {@code failoverctl run} process on a lab host (network namespace), with its config, event
 * history and log: the single controller of a drill, or one of a controller pair.
 */
public final class LabController {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final String namespace;
  private final Path jar;
  private final Path config;
  private final Path eventLog;
  private final Path log;
  private final URI admin;
  private Process process;

  /**
   * @param admin where its admin API answers from pgfo-cli, or null when it listens on its host's
   *     loopback only
   */
  LabController(
      String name, String namespace, Path jar, Path config, Path eventLog, Path log, URI admin) {
    this.name = name;
    this.namespace = namespace;
    this.jar = jar;
    this.config = config;
    this.eventLog = eventLog;
    this.log = log;
    this.admin = admin;
  }

  public String name() {
    return name;
  }

  public String namespace() {
    return namespace;
  }

  public Path config() {
    return config;
  }

  /** Starts {@code failoverctl run} on its host without waiting for anything. */
  public void start() {
    process =
        launch(
            namespace,
            jar,
            log,
            Map.of("AWS_ACCESS_KEY_ID", "test", "AWS_SECRET_ACCESS_KEY", "test"),
            "run",
            "-c",
            config.toString());
  }

  /**
   * Starts {@code failoverctl ARGS} as a daemon on lab host {@code namespace}, its output appended
   * to {@code log}; {@code ip netns exec} execs, so the process returned is the daemon's JVM.
   */
  static Process launch(
      String namespace, Path jar, Path log, Map<String, String> env, String... args) {
    ProcessBuilder pb = new ProcessBuilder(failoverctl(namespace, jar, args));
    pb.environment().putAll(env);
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    try {
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start failoverctl " + args[0] + " on " + namespace, e);
    }
  }

  /**
   * The command line of {@code failoverctl ARGS} on lab host {@code namespace}, on this JVM's java.
   */
  static List<String> failoverctl(String namespace, Path jar, String... args) {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> command =
        new ArrayList<>(List.of("ip", "netns", "exec", namespace, java, "-jar", jar.toString()));
    command.addAll(List.of(args));
    return command;
  }

  /**
   * Stops it: SIGKILL ({@code kill}, as a crash or an OOM kill would) or SIGTERM (a clean stop).
   */
  public void stop(boolean kill) {
    Process p = process;
    if (p == null) {
      return;
    }
    if (kill) {
      p.destroyForcibly();
    } else {
      p.destroy();
    }
    try {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }

  /** Its {@code GET /status} document (see the README's Admin API). */
  public JsonNode status() throws IOException, InterruptedException {
    if (admin == null) {
      throw new IllegalStateException(
          "controller " + name + "'s admin API listens on its host's loopback only");
    }
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(admin.resolve("/status"))
                .timeout(Duration.ofSeconds(3))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException(
          name + " GET /status answered HTTP " + r.statusCode() + ": " + r.body());
    }
    return Lab.JSON.readTree(r.body());
  }

  /**
   * Waits until its {@code GET /status} shows {@code controller.role} = {@code role} (LEADER,
   * FOLLOWER, ...).
   */
  public JsonNode awaitRole(String role, Duration limit) {
    JsonNode[] seen = new JsonNode[1];
    Waits.until(
        name + " to be " + role,
        limit,
        () -> {
          checkAlive();
          seen[0] = status();
          return role.equals(seen[0].path("controller").path("role").asText());
        });
    return seen[0];
  }

  /** Its event history, one JSON object per line. */
  public List<JsonNode> events() {
    List<JsonNode> out = new ArrayList<>();
    try {
      if (!Files.exists(eventLog)) {
        return out;
      }
      for (String line : Files.readAllLines(eventLog)) {
        if (!line.isBlank()) {
          try {
            out.add(Lab.JSON.readTree(line));
          } catch (IOException partial) {
            // the last line may be half written while the controller appends it
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + eventLog, e);
    }
    return out;
  }

  public List<JsonNode> eventsAfter(Instant since, Predicate<JsonNode> match) {
    return events().stream()
        .filter(e -> !Instant.parse(e.path("ts").asText()).isBefore(since))
        .filter(match)
        .toList();
  }

  public JsonNode awaitEvent(
      String what, Duration limit, Instant since, Predicate<JsonNode> match) {
    Waits.until(
        name + ": " + what,
        limit,
        () -> {
          checkAlive();
          return !eventsAfter(since, match).isEmpty();
        });
    return eventsAfter(since, match).get(0);
  }

  private void checkAlive() {
    Process p = process;
    if (p != null && !p.isAlive()) {
      throw new Waits.GiveUp(
          "controller " + name + " exited with " + p.exitValue() + "; see " + log);
    }
  }
}
