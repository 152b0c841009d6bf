package io.pgfailover.controller.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.port.NodeAgents.Facts;
import io.pgfailover.controller.port.NodeAgents.Method;
import io.pgfailover.controller.port.NodeAgents.Rejoin;
import io.pgfailover.controller.port.NodeAgents.RejoinOutcome;
import io.pgfailover.controller.port.NodeAgents.RejoinReply;
import io.pgfailover.controller.port.NodeAgents.RejoinRequest;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PairLayout;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rejoin where pg_rewind is impossible: a pair with no data checksums and wal_log_hints off (and
 * all else pg_rewind needs). Without rejoin.reclone the rejoin fails and leaves the node stopped
 * with its data untouched; with it the node is cloned anew beside its data directory, the old
 * directory kept aside (one at most).
 */
class RecloneIT {
  @RegisterExtension
  static PostgresPairExtension pg =
      new PostgresPairExtension(() -> PairLayout.loopback().withRewind(PairLayout.Rewind.NO_HINTS));

  @TempDir Path dir;

  @BeforeAll
  static void roles() throws Exception {
    AgentFixture.roles(pg.pair());
    AgentFixture.execute(pg.primary(), "CREATE TABLE rows_written (id int PRIMARY KEY)");
  }

  @Test
  void aNodeThatCannotBeRewoundFailsStoppedWithoutRecloneAndIsClonedAnewWithIt() throws Exception {
    PgNode old = pg.primary();
    PgNode newPrimary = pg.standby();
    AgentFixture.execute(old, "INSERT INTO rows_written VALUES (1)");
    Waits.until(
        "row 1 on the standby",
        Duration.ofSeconds(30),
        () -> "1".equals(AgentFixture.query(newPrimary, "SELECT count(*) FROM rows_written")));
    pg.promote(newPrimary);
    AgentFixture.execute(old, "INSERT INTO rows_written SELECT generate_series(2, 11)");
    AgentFixture.execute(newPrimary, "INSERT INTO rows_written VALUES (100)");
    RejoinRequest request =
        new RejoinRequest(
            newPrimary.host() + ":" + newPrimary.port(),
            AgentFixture.timeline(newPrimary),
            Optional.empty(),
            Optional.empty());
    Path data = old.dataDir();
    // A copy kept by an earlier reclone: the next one replaces it, so that at most one is kept.
    Path older = data.resolveSibling(data.getFileName() + ".old-20000101T000000Z");
    Files.createDirectories(older);
    Files.writeString(older.resolve("PG_VERSION"), "15\n");

    try (AgentFixture noReclone = new AgentFixture(old, dir.resolve("no-reclone"), false)) {
      assertEquals(
          RejoinOutcome.STARTED, noReclone.client.rejoin(noReclone.name, request).outcome());
      Rejoin failed = noReclone.awaitFailed();
      String error = failed.error().orElseThrow();
      assertTrue(
          error.startsWith("REWINDING: pg_rewind failed and rejoin.reclone is false"), error);
      assertTrue(error.contains("wal_log_hints"), error);
      assertTrue(error.endsWith("the node was left stopped"), error);
      Facts facts = noReclone.client.facts(noReclone.name).value().orElseThrow();
      assertFalse(facts.postmasterRunning());
      assertFalse(old.isRunning());
      // pg_rewind refused before it changed anything: still the old primary's data.
      assertEquals("shut down", facts.controlData().orElseThrow().state());
      assertFalse(facts.standbySignal());
      assertTrue(Files.isDirectory(older), "nothing is deleted without a replacement");
      assertTrue(
          noReclone.events().stream().anyMatch(l -> l.contains("\"event\":\"rejoin_failed\"")));
    }

    try (AgentFixture reclone = new AgentFixture(old, dir.resolve("reclone"), true)) {
      RejoinReply reply = reclone.client.rejoin(reclone.name, request);
      assertEquals(RejoinOutcome.STARTED, reply.outcome(), reply.detail());
      Rejoin done = reclone.awaitDone();
      assertEquals(Method.RECLONE, done.method());
      assertTrue(
          done.steps().stream().anyMatch(s -> s.step() == RejoinPhase.RECLONING),
          done.steps().toString());

      assertEquals("t", AgentFixture.query(old, "SELECT pg_is_in_recovery()"));
      assertEquals(
          "streaming " + newPrimary.port(),
          AgentFixture.query(old, "SELECT status || ' ' || sender_port FROM pg_stat_wal_receiver"));
      Waits.until(
          "the new primary's row on the recloned node",
          Duration.ofSeconds(30),
          () ->
              "1"
                  .equals(
                      AgentFixture.query(old, "SELECT count(*) FROM rows_written WHERE id = 100")));
      assertEquals(
          "0",
          AgentFixture.query(old, "SELECT count(*) FROM rows_written WHERE id BETWEEN 2 AND 11"));

      List<Path> kept;
      try (Stream<Path> siblings = Files.list(data.getParent())) {
        kept =
            siblings
                .filter(p -> p.getFileName().toString().startsWith(data.getFileName() + ".old-"))
                .toList();
      }
      assertEquals(1, kept.size(), kept.toString());
      assertFalse(kept.contains(older), "the older copy went once its successor was complete");
      assertTrue(
          Files.exists(kept.get(0).resolve("global/pg_control")), "the old data, kept whole");
      assertFalse(Files.exists(data.resolveSibling(data.getFileName() + ".new")));
      assertTrue(reclone.events().stream().anyMatch(l -> l.contains("\"event\":\"recloned\"")));
    }
  }
}
