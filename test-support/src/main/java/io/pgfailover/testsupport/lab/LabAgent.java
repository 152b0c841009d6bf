package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.DatabaseRoles;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The node agent ({@code failoverctl agent}) of one lab PostgreSQL host, as its own process in the
 * host's namespace, listening on the host's address, port {@value #PORT}: as the systemd unit runs
 * it on EC2, as root, with the PostgreSQL tools run as the servers' OS user. It starts PostgreSQL
 * with {@code pg_ctl} and the harness's server options (so a rejoined server still names itself by
 * its {@code cluster_name}), keeps its own event history, and watches its upstream primary (the
 * active witness) at the controller's probe interval and timeout.
 */
public final class LabAgent {
  public static final int PORT = 8009;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private final String name;
  private final String namespace;
  private final Path jar;
  private final Path config;
  private final Path log;
  private final URI url;
  private Process process;

  private LabAgent(String name, String namespace, Path jar, Path config, Path log, URI url) {
    this.name = name;
    this.namespace = namespace;
    this.jar = jar;
    this.config = config;
    this.log = log;
    this.url = url;
  }

  /**
   * Writes the agent's config for {@code node} under {@code dir}/agent-NAME/ (not started).
   *
   * @param tokenFile the bearer token the controllers hold too
   * @param localPassword the password file of roles.sql's controller role, the agent's own login
   * @param replicationPassword the password file of roles.sql's replication role
   * @param witness the {@code witness:} flow mapping body, e.g. {@code interval: 1s, timeout: 1s}
   */
  static LabAgent configure(
      PostgresPair pair,
      PgNode node,
      Path dir,
      Path jar,
      Path tokenFile,
      Path localPassword,
      Path replicationPassword,
      boolean reclone,
      String witness)
      throws IOException {
    String name = PostgresPair.configName(node);
    Path home = Files.createDirectories(dir.resolve("agent-" + name));
    Path bin = pair.binaries().binDir();
    List<String> start =
        new ArrayList<>(
            List.of(
                bin.resolve("pg_ctl").toString(),
                "start",
                "-D",
                node.dataDir().toString(),
                "-w",
                "-t",
                "60",
                "-o",
                String.join(" ", PostgresPair.serverOptions(node))));
    String yaml =
        String.join(
            "\n",
            "# Generated for the netns lab: the node agent of " + name + ".",
            "node: " + name,
            "listen: " + node.host() + ":" + PORT,
            "tokenFile: " + tokenFile,
            "eventLog: " + home.resolve("events.jsonl"),
            "postgres:",
            "  dataDirectory: " + node.dataDir(),
            "  bindir: " + bin,
            "  osUser: " + pair.osUser().orElse(System.getProperty("user.name")),
            "  host: " + node.host(),
            "  port: " + node.port(),
            "  service: pg-ctl",
            // pg_ctl's preset starts a server with -p only; the lab's also need their cluster_name.
            "  start: [" + flow(pair.asServerUser(start)) + "]",
            "  local: {user: "
                + DatabaseRoles.CONTROLLER
                + ", password: {file: "
                + localPassword
                + "}}",
            "replication:",
            "  user: replicator",
            "  passwordFile: " + replicationPassword,
            "  passfile: " + pair.clusterDir().resolve("replication-" + node.name() + ".pgpass"),
            "rejoin: {reclone: " + reclone + ", streamTimeout: 60s}",
            "witness: {" + witness + "}",
            "");
    Path config = home.resolve("agent.yaml");
    Files.writeString(config, yaml);
    return new LabAgent(
        name,
        NetnsLab.hostOf(node.name()),
        jar,
        config,
        home.resolve("agent.log"),
        URI.create("http://" + node.host() + ":" + PORT));
  }

  /** A YAML flow sequence of single-quoted strings. */
  private static String flow(List<String> argv) {
    return argv.stream()
        .map(a -> "'" + a.replace("'", "''") + "'")
        .collect(Collectors.joining(", "));
  }

  public String name() {
    return name;
  }

  /** Where the controllers reach it. */
  public URI url() {
    return url;
  }

  /** Starts it on its host and waits until {@code GET /health} answers. */
  public void start() {
    Process p =
        LabController.launch(namespace, jar, log, Map.of(), "agent", "-c", config.toString());
    process = p;
    Waits.until(
        "the agent of " + name + " to answer on " + url,
        NetnsCluster.START_TIMEOUT,
        () -> {
          if (!p.isAlive()) {
            throw new Waits.GiveUp(
                "the agent of " + name + " exited with " + p.exitValue() + "; see " + log);
          }
          return health() == 200;
        });
  }

  /** {@code GET /health}'s status code, or -1 when it does not answer. */
  public int health() {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(url.resolve("/health"))
                  .timeout(Duration.ofSeconds(2))
                  .GET()
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /** SIGKILLs it (a crash of the agent alone; PostgreSQL stays as it is). */
  public void kill() {
    Process p = process;
    if (p == null) {
      return;
    }
    p.destroyForcibly();
    try {
      p.waitFor(15, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    process = null;
  }
}
