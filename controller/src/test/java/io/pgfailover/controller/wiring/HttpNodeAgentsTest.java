package io.pgfailover.controller.wiring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpHandler;
import io.pgfailover.controller.http.BoundedHttpServer;
import io.pgfailover.controller.http.Json;
import io.pgfailover.controller.port.NodeAgents.Rejoin;
import io.pgfailover.controller.port.NodeAgents.RejoinOutcome;
import io.pgfailover.controller.port.NodeAgents.RejoinReply;
import io.pgfailover.controller.port.NodeAgents.RejoinRequest;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.controller.port.StepResult;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller's side of the agent API against scripted agents: every failure is a value that
 * says what to check, a silent agent is given up on at the timeout, answers map to outcomes.
 */
class HttpNodeAgentsTest {
  private static final String TOKEN = "0123456789abcdef-token";

  /** For agents that answer: room for a loaded machine. */
  private static final HttpNodeAgents.Timeouts AMPLE =
      new HttpNodeAgents.Timeouts(
          Duration.ofSeconds(5),
          Duration.ofSeconds(10),
          Duration.ofSeconds(10),
          Duration.ofSeconds(10));

  /** For an agent that never answers. */
  private static final HttpNodeAgents.Timeouts SHORT =
      new HttpNodeAgents.Timeouts(
          Duration.ofSeconds(5),
          Duration.ofMillis(300),
          Duration.ofMillis(300),
          Duration.ofMillis(300));

  @TempDir Path dir;

  private Path token(String value) throws Exception {
    Path f = dir.resolve("token-" + value.hashCode());
    Files.writeString(f, value + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    return f;
  }

  private BoundedHttpServer agent(List<BoundedHttpServer.Endpoint> endpoints) throws Exception {
    BoundedHttpServer s =
        new BoundedHttpServer(
            "agent",
            new InetSocketAddress("127.0.0.1", 0),
            Optional.of(TOKEN.getBytes()),
            "no token",
            endpoints,
            r -> {});
    s.start();
    return s;
  }

  private HttpNodeAgents client(BoundedHttpServer s, String tokenValue) throws Exception {
    return client(s, tokenValue, AMPLE);
  }

  private HttpNodeAgents client(BoundedHttpServer s, String tokenValue, HttpNodeAgents.Timeouts t)
      throws Exception {
    return new HttpNodeAgents(
        List.of(
            new HttpNodeAgents.Target(
                "pg-a",
                URI.create("http://127.0.0.1:" + s.address().getPort()),
                token(tokenValue))),
        t);
  }

  private static HttpHandler json(int status, Object body) {
    return ex ->
        BoundedHttpServer.send(
            ex, status, "application/json", Json.MAPPER.writeValueAsString(body));
  }

  @Test
  void aSilentAgentIsGivenUpOnAtTheTimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (BoundedHttpServer s =
        agent(
            List.of(
                new BoundedHttpServer.Endpoint(
                    "GET",
                    "/facts",
                    true,
                    ex -> {
                      try {
                        release.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    })))) {
      String why = client(s, TOKEN, SHORT).facts("pg-a").failure().orElseThrow();
      release.countDown();
      assertTrue(why.contains("did not answer within 300 ms"), why);
    }
  }

  @Test
  void aWrongTokenAnUnknownNodeAndNobodyListeningAreFailuresThatSayWhatToCheck() throws Exception {
    try (BoundedHttpServer s =
        agent(
            List.of(
                new BoundedHttpServer.Endpoint(
                    "GET", "/rejoin", true, json(200, Rejoin.idle()))))) {
      HttpNodeAgents wrong = client(s, "another-token-0123456789");
      assertTrue(
          wrong
              .rejoinState("pg-a")
              .failure()
              .orElseThrow()
              .contains("refused the token (HTTP 401)"));
      assertEquals(
          RejoinPhase.IDLE, client(s, TOKEN).rejoinState("pg-a").value().orElseThrow().state());
      assertTrue(
          client(s, TOKEN)
              .facts("pg-b")
              .failure()
              .orElseThrow()
              .contains("has no agent configured"));
      assertFalse(client(s, TOKEN).has("pg-b"));
    }
    int closed;
    try (ServerSocket free = new ServerSocket(0)) {
      closed = free.getLocalPort();
    }
    HttpNodeAgents nobody =
        new HttpNodeAgents(
            List.of(
                new HttpNodeAgents.Target(
                    "pg-a", URI.create("http://127.0.0.1:" + closed), token(TOKEN))),
            AMPLE);
    assertTrue(nobody.facts("pg-a").failure().orElseThrow().contains("refused the connection"));
    StepResult stop = nobody.stop("pg-a");
    assertFalse(stop.ok());
    assertEquals(
        RejoinOutcome.UNANSWERED,
        nobody
            .rejoin("pg-a", new RejoinRequest("h:1", 2, Optional.empty(), Optional.empty()))
            .outcome());
  }

  @Test
  void rejoinAnswersMapToOutcomesWithTheAgentsState() throws Exception {
    Rejoin running =
        new Rejoin(
            RejoinPhase.REWINDING,
            Optional.of("10.0.2.10:5432"),
            java.util.OptionalLong.of(3),
            Optional.of("pgfailover_pg_a"),
            Optional.empty(),
            Optional.empty(),
            io.pgfailover.controller.port.NodeAgents.Method.NONE,
            List.of(),
            Optional.empty());
    try (BoundedHttpServer s =
        agent(
            List.of(
                new BoundedHttpServer.Endpoint(
                    "POST",
                    "/rejoin",
                    true,
                    json(
                        409,
                        Map.of(
                            "outcome", "REFUSED",
                            "detail", "another rejoin runs",
                            "rejoin", running))),
                new BoundedHttpServer.Endpoint(
                    "POST",
                    "/stop",
                    true,
                    json(500, StepResult.failed("still runs", Map.of())))))) {
      RejoinReply r =
          client(s, TOKEN)
              .rejoin(
                  "pg-a",
                  new RejoinRequest("10.0.2.10:5432", 4, Optional.empty(), Optional.empty()));
      assertEquals(RejoinOutcome.REFUSED, r.outcome());
      assertEquals("another rejoin runs", r.detail());
      assertEquals(Optional.of(running), r.rejoin());
      StepResult stop = client(s, TOKEN).stop("pg-a");
      assertFalse(stop.ok());
      assertEquals("still runs", stop.detail());
      assertFalse(client(s, TOKEN).start("pg-a").ok(), "no /start here: HTTP 404 is a failure");
    }
  }

  @Test
  void aTokenFileOthersCanReadIsRefusedAtTheStart() throws Exception {
    Path f = token(TOKEN);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                new HttpNodeAgents(
                    List.of(new HttpNodeAgents.Target("pg-a", URI.create("http://127.0.0.1:1"), f)),
                    AMPLE));
    assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
  }
}
