package io.pgfailover.controller.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.cli.Failoverctl;
import io.pgfailover.controller.events.ActorLock;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.NodeAgents.Facts;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.probe.Role;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.OptionalLong;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node agent on a real pair: its facts with PostgreSQL up, killed and cleanly stopped; start
 * and stop, idempotent; its API's token and paths; a restart while idle; {@code failoverctl agent
 * --check}.
 */
class AgentIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @TempDir Path dir;

  @BeforeAll
  static void roles() {
    AgentFixture.roles(pg.pair());
  }

  @BeforeEach
  void healthy() {
    pg.pair().restoreHealthy();
  }

  @Test
  void factsAnswerWithPostgresRunningKilledAndCleanlyStopped() throws Exception {
    PgNode primary = pg.primary();
    try (AgentFixture a = new AgentFixture(primary, dir.resolve("a"), false);
        AgentFixture b = new AgentFixture(pg.standby(), dir.resolve("b"), false)) {
      Facts p = a.client.facts(a.name).value().orElseThrow();
      assertTrue(p.postmasterRunning());
      assertEquals(OptionalLong.of(primary.pid()), p.pid());
      assertEquals(Role.PRIMARY, p.role());
      assertEquals(OptionalLong.of(AgentFixture.timeline(primary)), p.timeline());
      assertEquals("in production", p.controlData().orElseThrow().state());
      assertFalse(p.controlData().get().dataChecksums());
      assertFalse(p.standbySignal());
      assertTrue(p.version().matches("\\d+\\.\\d+"), p.version());
      assertTrue(p.dataBytes() > 1_000_000 && p.freeBytes() > 0, p.toString());
      assertTrue(p.problems().isEmpty(), p.problems().toString());
      assertEquals(RejoinPhase.IDLE, p.rejoin().state());

      PgNode standby = b.node;
      Facts s = b.client.facts(b.name).value().orElseThrow();
      assertEquals(Role.STANDBY, s.role());
      assertTrue(s.standbySignal());
      // The harness cloned it with pg_basebackup -R and PGPASSWORD: the password is in the file.
      assertTrue(
          Files.readString(standby.dataDir().resolve("postgresql.auto.conf"))
              .contains(PostgresPair.SUPERUSER_PASSWORD));
      String conninfo = s.primaryConninfo().orElseThrow();
      assertTrue(conninfo.contains("port='" + primary.port() + "'"), conninfo);
      assertFalse(conninfo.contains(PostgresPair.SUPERUSER_PASSWORD), conninfo);
      assertFalse(conninfo.contains("password"), conninfo);

      pg.kill(standby);
      Facts killed = b.client.facts(b.name).value().orElseThrow();
      assertFalse(killed.postmasterRunning());
      assertEquals(OptionalLong.empty(), killed.pid());
      // postmaster.pid is still there; the process is not.
      assertTrue(Files.exists(standby.dataDir().resolve("postmaster.pid")));
      assertEquals("in archive recovery", killed.controlData().orElseThrow().state());
      assertFalse(killed.controlData().get().cleanShutdown());
      assertEquals(Role.STANDBY, killed.role());
      assertEquals(s.timeline(), killed.timeline());

      StepResult started = b.client.start(b.name);
      assertTrue(started.ok() && started.changed(), started.toString());
      assertTrue(standby.isRunning());
      pg.pair().awaitStreaming(standby);
      StepResult again = b.client.start(b.name);
      assertTrue(again.ok() && !again.changed(), again.toString());

      StepResult stopped = b.client.stop(b.name);
      assertTrue(stopped.ok() && stopped.changed(), stopped.toString());
      Facts clean = b.client.facts(b.name).value().orElseThrow();
      assertFalse(clean.postmasterRunning());
      assertEquals("shut down in recovery", clean.controlData().orElseThrow().state());
      assertTrue(clean.controlData().get().cleanShutdown());
      assertFalse(Files.exists(standby.dataDir().resolve("postmaster.pid")));
      StepResult stoppedAgain = b.client.stop(b.name);
      assertTrue(stoppedAgain.ok() && !stoppedAgain.changed(), stoppedAgain.toString());

      assertTrue(b.client.start(b.name).changed());
      pg.pair().awaitStreaming(standby);
      assertTrue(
          b.events().stream()
              .anyMatch(e -> e.contains("\"action_finished\"") && e.contains("stop_postgres")),
          "every action on PostgreSQL is in the history");
    }
  }

  /**
   * The active witness: the standby's agent probes its upstream (the primary, as primary_conninfo
   * names it) and reports when it last reached it; a frozen primary shows as failed probes of the
   * timeout kind, and the last reach ages.
   */
  @Test
  void theStandbysAgentWatchesItsPrimaryAndSeesAFrozenOneTimeOut() throws Exception {
    PgNode primary = pg.primary();
    try (AgentFixture a = new AgentFixture(pg.standby(), dir.resolve("b"), false)) {
      String target = primary.host() + ":" + primary.port();
      java.util.concurrent.atomic.AtomicReference<NodeAgents.Upstream> seen =
          new java.util.concurrent.atomic.AtomicReference<>();
      Waits.until(
          "the standby's agent to reach its primary",
          Duration.ofSeconds(20),
          () -> {
            upstream(a).ifPresent(seen::set);
            return seen.get() != null
                && seen.get().target().equals(target)
                && seen.get().sinceReachedMs().isPresent();
          });
      assertEquals(java.util.Optional.of(Role.PRIMARY), seen.get().reachedAs());
      // GET /upstream, the loop's cheap second ask, answers the same view.
      NodeAgents.Upstream alone =
          a.client.upstream(a.name).value().orElseThrow().upstream().orElseThrow();
      assertEquals(target, alone.target());
      assertEquals(java.util.Optional.of(Role.PRIMARY), alone.reachedAs());
      pg.freeze(primary);
      try {
        Waits.until(
            "two failed probes of the frozen primary",
            Duration.ofSeconds(20),
            () -> {
              upstream(a).ifPresent(seen::set);
              return seen.get().consecutiveFailures() >= 2;
            });
        assertEquals(java.util.Optional.of("timeout"), seen.get().lastFailure());
        NodeAgents.Upstream failing =
            a.client.upstream(a.name).value().orElseThrow().upstream().orElseThrow();
        assertTrue(failing.consecutiveFailures() >= 2, "GET /upstream: " + failing);
        assertEquals(java.util.Optional.of("timeout"), failing.lastFailure());
        assertTrue(
            seen.get().sinceReachedMs().getAsLong() >= 1000,
            "its last reach ages while it fails: " + seen.get());
      } finally {
        pg.thaw(primary);
      }
    }
  }

  private static java.util.Optional<NodeAgents.Upstream> upstream(AgentFixture a) {
    return a.client.facts(a.name).value().flatMap(Facts::upstream);
  }

  @Test
  void theApiRefusesAMissingOrWrongTokenAndMatchesPathsExactly() throws Exception {
    try (AgentFixture a = new AgentFixture(pg.standby(), dir.resolve("a"), false)) {
      String base = "http://" + a.config.listenText();
      HttpResponse<String> health = send(base + "/health", "GET", null);
      assertEquals(200, health.statusCode());
      assertEquals("{\"status\":\"ok\",\"node\":\"" + a.name + "\"}", health.body());
      assertEquals(401, send(base + "/facts", "GET", null).statusCode());
      assertEquals(401, send(base + "/facts", "GET", "wrong-token-0123456789").statusCode());
      long pid = a.node.pid();
      assertEquals(401, send(base + "/stop", "POST", null).statusCode());
      assertEquals(401, send(base + "/rejoin", "POST", "x").statusCode());
      assertEquals(pid, a.node.pid(), "a refused stop stops nothing");
      assertEquals(200, send(base + "/facts", "GET", AgentFixture.TOKEN).statusCode());
      assertEquals(404, send(base + "/factsX", "GET", AgentFixture.TOKEN).statusCode());
      assertEquals(404, send(base + "/rejoin/", "GET", AgentFixture.TOKEN).statusCode());
      assertEquals(405, send(base + "/rejoin", "DELETE", AgentFixture.TOKEN).statusCode());
      assertEquals(405, send(base + "/start", "GET", AgentFixture.TOKEN).statusCode());
      HttpResponse<String> bad = send(base + "/rejoin", "POST", AgentFixture.TOKEN);
      assertEquals(400, bad.statusCode(), bad.body());

      // Through the controller's port: the refusal is a value naming the fix.
      try (AgentFixture wrong = new AgentFixture(pg.primary(), dir.resolve("w"), false)) {
        Files.writeString(wrong.config.tokenFile(), "another-token-0123456789\n");
        var client =
            new io.pgfailover.controller.wiring.HttpNodeAgents(
                java.util.List.of(
                    new io.pgfailover.controller.wiring.HttpNodeAgents.Target(
                        a.name, URI.create(base), wrong.config.tokenFile())),
                io.pgfailover.controller.wiring.HttpNodeAgents.Timeouts.defaults());
        String why = client.facts(a.name).failure().orElseThrow();
        assertTrue(why.contains("refused the token (HTTP 401)"), why);
      }
      assertTrue(
          a.events().stream()
              .anyMatch(e -> e.contains("\"event\":\"request\"") && e.contains("\"DENIED\"")),
          "refusals are in the history");
    }
  }

  @Test
  void aRestartedAgentAnswersAsBeforeAndASecondOneIsRefused() throws Exception {
    try (AgentFixture a = new AgentFixture(pg.standby(), dir.resolve("a"), false)) {
      long pid = a.node.pid();
      Facts before = a.client.facts(a.name).value().orElseThrow();
      ActorLock.HeldException e =
          assertThrows(
              ActorLock.HeldException.class, () -> Agent.start(a.config, Clock.systemUTC()));
      assertTrue(e.getMessage().contains("agent"), e.getMessage());

      a.stop();
      assertTrue(a.client.facts(a.name).failure().orElseThrow().contains("refused the connection"));
      a.start();
      Facts after = a.client.facts(a.name).value().orElseThrow();
      assertEquals(pid, a.node.pid(), "the agent's restart leaves PostgreSQL alone");
      assertEquals(before.pid(), after.pid());
      assertEquals(before.role(), after.role());
      assertEquals(RejoinPhase.IDLE, after.rejoin().state());
      assertEquals(
          2, a.events().stream().filter(l -> l.contains("\"event\":\"agent_started\"")).count());
    }
  }

  @Test
  void checkValidatesAConfigAndRefusesAWildcardListenAddress() throws Exception {
    Files.createDirectories(dir);
    Path good = dir.resolve("good.yaml");
    Files.writeString(good, AgentFixture.yaml(pg.standby(), dir, false, 18009));
    String[] ok = check(good);
    assertEquals("0", ok[0], ok[2]);
    assertTrue(ok[1].startsWith("agent config ok: node pg-"), ok[1]);

    Path wildcard = dir.resolve("wildcard.yaml");
    Files.writeString(
        wildcard,
        Files.readString(good).replace("listen: 127.0.0.1:18009", "listen: 0.0.0.0:18009"));
    String[] refused = check(wildcard);
    assertEquals("3", refused[0]);
    assertTrue(
        refused[2].contains("listen: \"0.0.0.0:18009\" listens on every interface"), refused[2]);
  }

  /** {@code failoverctl agent --check -c FILE}: its exit code, output and errors. */
  private static String[] check(Path file) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Failoverctl.execute(
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            "agent",
            "--check",
            "-c",
            file.toString());
    return new String[] {Integer.toString(code), out.toString(), err.toString()};
  }

  private static HttpResponse<String> send(String url, String method, String token)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(10))
            .method(
                method,
                method.equals("POST")
                    ? HttpRequest.BodyPublishers.ofString("{}")
                    : HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
