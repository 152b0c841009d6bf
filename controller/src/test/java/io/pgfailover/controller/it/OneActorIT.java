package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.cli.Failoverctl;
import io.pgfailover.testsupport.Waits;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One actor per host, with real processes: {@code failoverctl run} (the shaded jar) as the daemon,
 * and this JVM as the operator's second daemon and direct commands. The nodes and the AWS endpoint
 * are closed ports: what is tested is who may act, not what acting does.
 */
class OneActorIT {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  @TempDir Path dir;
  private Process daemon;

  @AfterEach
  void stopDaemon() throws Exception {
    if (daemon != null && daemon.isAlive()) {
      daemon.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void theDaemonAndADirectCommandNeverActTogetherWhateverHappensToTheAdminApi() throws Exception {
    int adminPort = freePort();
    Path config = config("controller.yaml", adminPort);
    // The same controller state directory, but an admin.listen where nothing listens: what an
    // operator's copy of the config with a stale port looks like, or a daemon whose API is not up.
    Path elsewhere = config("elsewhere.yaml", freePort());
    Path lock = dir.resolve("state/events.jsonl.lock");

    daemon =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElseThrow(),
                "-jar",
                Path.of("target/failoverctl.jar").toAbsolutePath().toString(),
                "run",
                "-c",
                config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("daemon.log").toFile())
            .start();
    Waits.until(
        "the daemon's admin API (log: " + dir.resolve("daemon.log") + ")",
        Duration.ofSeconds(60),
        () -> {
          if (!daemon.isAlive()) {
            throw new Waits.GiveUp(Files.readString(dir.resolve("daemon.log")));
          }
          return health(adminPort) == 200;
        });
    String heldBy = lock + " is locked by pid " + daemon.pid() + " (run)";

    // A second daemon with the same config does not start.
    Cli second = cli("run", "-c", config.toString());
    assertEquals(ExitCodes.FAILED, second.code, second.out + second.err);
    assertTrue(
        second.err.contains(
            "failoverctl run: another controller is acting from this host: " + heldBy),
        second.err);

    // Clients that trickle their headers (the attack of issue 10: they held all 4 handler threads
    // and the CLI then acted directly) do not keep the CLI from the daemon.
    List<Socket> slow = new ArrayList<>();
    try {
      for (int i = 0; i < 8; i++) {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", adminPort));
        s.getOutputStream().write("GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ".getBytes());
        slow.add(s);
      }
      Cli failover = cli("failover", "-c", config.toString(), "--to", "pg-b");
      assertTrue(failover.out.contains("\"via\" : \"daemon\""), failover.out + failover.err);
    } finally {
      for (Socket s : slow) {
        s.close();
      }
    }

    // Nothing listens on this config's admin.listen, but the daemon holds the host's lock.
    Cli direct = cli("failover", "-c", elsewhere.toString(), "--to", "pg-b");
    assertEquals(ExitCodes.FAILED, direct.code, direct.out + direct.err);
    assertTrue(
        direct.err.contains(
            "failoverctl failover: another controller is acting from this host: " + heldBy),
        direct.err);
    assertEquals("", direct.out);

    // The operating system drops the lock with the process, however it dies.
    daemon.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    Cli after = cli("failover", "-c", elsewhere.toString(), "--to", "pg-b");
    assertFalse(after.err.contains("another controller"), after.err);
    assertTrue(after.out.contains("\"via\" : \"direct (nothing listens on"), after.out + after.err);
  }

  private static int health(int port) throws Exception {
    return HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health"))
                .timeout(Duration.ofSeconds(2))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.discarding())
        .statusCode();
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Path config(String name, int adminPort) throws Exception {
    Path token = dir.resolve("admin-token");
    if (!Files.exists(token)) {
      Files.writeString(token, "it-token-0123456789abcdef");
      Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    }
    int closed = freePort();
    return Files.writeString(
        dir.resolve(name),
        String.join(
            "\n",
            "cluster: one-actor",
            "aws: {region: us-east-1, endpoint: 'http://127.0.0.1:" + closed + "'}",
            "virtualIp: 172.31.255.10/32",
            "routeTables: [rtb-0123456789abcdef0]",
            "nodes:",
            "  - {name: pg-a, instanceId: i-0123456789abcdef0, eniId: eni-0123456789abcdef0,",
            "     host: 127.0.0.1, port: " + closed + ", user: u, password: {pgpass: true}}",
            "  - {name: pg-b, instanceId: i-0123456789abcdef1, eniId: eni-0123456789abcdef1,",
            "     host: 127.0.0.1, port: " + closed + ", user: u, password: {pgpass: true}}",
            "admin: {listen: '127.0.0.1:" + adminPort + "', tokenFile: " + token + "}",
            "eventLog: " + dir.resolve("state/events.jsonl"),
            ""));
  }

  record Cli(int code, String out, String err) {}

  private static Cli cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Failoverctl.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Cli(code, out.toString(), err.toString());
  }
}
