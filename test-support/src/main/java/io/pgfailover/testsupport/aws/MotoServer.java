package io.pgfailover.testsupport.aws;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** moto_server from the project's venv, on a free loopback port, as a child process. */
final class MotoServer implements AwsEmulator {
  private static final Logger log = LoggerFactory.getLogger(MotoServer.class);

  /**
   * moto imports every service backend at start-up: seconds on a loaded 2-core machine, so be
   * generous.
   */
  private static final Duration STARTUP_DEADLINE = Duration.ofSeconds(60);

  private static final Duration POLL_INTERVAL = Duration.ofMillis(100);
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(5);

  private final Process process;
  private final URI endpoint;
  private final String region;
  private final Path logFile;
  private final HttpClient http;
  private final Thread shutdownHook;

  private MotoServer(Process process, URI endpoint, String region, Path logFile, HttpClient http) {
    this.process = process;
    this.endpoint = endpoint;
    this.region = region;
    this.logFile = logFile;
    this.http = http;
    this.shutdownHook = new Thread(this::stopProcessTree, "moto-server-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  static MotoServer start(String region) {
    Path venv = locateVenv();
    HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
    // A port found free can be taken before moto binds it; one more try with a new port covers that
    // race.
    IllegalStateException first = null;
    for (int attempt = 1; attempt <= 2; attempt++) {
      try {
        return startOnce(venv, region, http);
      } catch (IllegalStateException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    throw first;
  }

  private static MotoServer startOnce(Path venv, String region, HttpClient http) {
    int port = freeLoopbackPort();
    URI endpoint = URI.create("http://127.0.0.1:" + port);
    Path logFile;
    Process process;
    try {
      logFile = Files.createTempFile("moto-server-" + port + "-", ".log");
      // Run the venv's interpreter on the module rather than bin/moto_server: a venv copied or
      // moved keeps
      // an absolute shebang pointing at its old place.
      List<String> command =
          List.of(
              venv.resolve("bin/python").toString(),
              "-m",
              "moto.server",
              "-H",
              "127.0.0.1",
              "-p",
              Integer.toString(port));
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(logFile.toFile())
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException("could not start moto_server from " + venv, e);
    }
    log.info("event=moto_starting pid={} endpoint={} log={}", process.pid(), endpoint, logFile);
    MotoServer server = new MotoServer(process, endpoint, region, logFile, http);
    try {
      server.awaitReady();
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
    return server;
  }

  /**
   * Polls until moto answers HTTP; fails fast if the process exits, with its log in the message.
   */
  private void awaitReady() {
    Instant deadline = Instant.now().plus(STARTUP_DEADLINE);
    HttpRequest probe =
        HttpRequest.newBuilder(endpoint.resolve("/moto-api/")).timeout(HTTP_TIMEOUT).GET().build();
    while (true) {
      if (!process.isAlive()) {
        throw new IllegalStateException(
            "moto_server exited with code "
                + process.exitValue()
                + " before answering; its log:\n"
                + tail());
      }
      try {
        HttpResponse<Void> response = http.send(probe, HttpResponse.BodyHandlers.discarding());
        if (response.statusCode() == 200) {
          log.info("event=moto_ready pid={} endpoint={}", process.pid(), endpoint);
          return;
        }
      } catch (IOException notYet) {
        // connection refused until moto has bound the port
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for moto_server", e);
      }
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "moto_server did not answer on "
                + endpoint
                + " within "
                + STARTUP_DEADLINE
                + "; its log:\n"
                + tail());
      }
      try {
        Thread.sleep(POLL_INTERVAL.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for moto_server", e);
      }
    }
  }

  @Override
  public String name() {
    return "moto";
  }

  @Override
  public URI endpoint() {
    return endpoint;
  }

  @Override
  public String region() {
    return region;
  }

  /** moto's fixed account for any credentials. */
  @Override
  public String accountId() {
    return "123456789012";
  }

  @Override
  public void reset() {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint.resolve("/moto-api/reset"))
            .timeout(HTTP_TIMEOUT)
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException(
            "moto reset answered HTTP " + response.statusCode() + ": " + response.body());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("moto reset failed on " + endpoint, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during moto reset", e);
    }
  }

  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // the hook itself is running or about to
    }
    stopProcessTree();
  }

  /**
   * Stops moto and anything it spawned: TERM first, then KILL for what is left after a grace
   * period.
   */
  private void stopProcessTree() {
    List<ProcessHandle> tree = process.descendants().toList();
    tree.forEach(ProcessHandle::destroy);
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
    tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    try {
      Files.deleteIfExists(logFile);
    } catch (IOException e) {
      log.warn("event=moto_log_not_deleted log={} error={}", logFile, e.toString());
    }
    log.info("event=moto_stopped pid={} endpoint={}", process.pid(), endpoint);
  }

  private String tail() {
    try {
      List<String> lines = Files.readAllLines(logFile, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      return "(log " + logFile + " unreadable: " + e.getMessage() + ")";
    }
  }

  private static int freeLoopbackPort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("no free loopback port", e);
    }
  }

  /**
   * The venv that scripts/test.sh creates: env PGFAILOVER_VENV, else the repository root that the
   * build passes (system property pgfailover.repoRoot), else the nearest .venv above the working
   * directory.
   */
  static Path locateVenv() {
    Optional<Path> fromEnv = Optional.ofNullable(System.getenv("PGFAILOVER_VENV")).map(Paths::get);
    Optional<Path> fromRepoRoot =
        Optional.ofNullable(System.getProperty("pgfailover.repoRoot"))
            .map(r -> Paths.get(r, ".venv"));
    for (Optional<Path> candidate : List.of(fromEnv, fromRepoRoot)) {
      if (candidate.isPresent() && hasMoto(candidate.get())) {
        return candidate.get();
      }
    }
    for (Path dir = Paths.get("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path venv = dir.resolve(".venv");
      if (hasMoto(venv)) {
        return venv;
      }
    }
    throw new IllegalStateException(
        "moto_server not found (looked at PGFAILOVER_VENV="
            + fromEnv.map(Path::toString).orElse("<unset>")
            + ", pgfailover.repoRoot/.venv="
            + fromRepoRoot.map(Path::toString).orElse("<unset>")
            + ", and .venv in the parents of "
            + Paths.get("").toAbsolutePath()
            + "): run scripts/test.sh to create the venv");
  }

  private static boolean hasMoto(Path venv) {
    return Files.isExecutable(venv.resolve("bin/moto_server"))
        && Files.isExecutable(venv.resolve("bin/python"));
  }
}
