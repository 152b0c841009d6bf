package io.pgfailover.controller.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.port.NodeAgents.Method;
import io.pgfailover.controller.port.NodeAgents.Rejoin;
import io.pgfailover.controller.port.NodeAgents.RejoinOutcome;
import io.pgfailover.controller.port.NodeAgents.RejoinReply;
import io.pgfailover.controller.port.NodeAgents.RejoinRequest;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.probe.NodeEndpoint;
import io.pgfailover.probe.PasswordSource;
import io.pgfailover.probe.PgProbe;
import io.pgfailover.probe.ProbeResult;
import io.pgfailover.probe.ProbeSettings;
import io.pgfailover.probe.Role;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PairLayout;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rejoin on a real pair that pg_rewind can rewind (wal_log_hints on): the old primary after its
 * standby's promotion loses the rows only it had and streams from the new primary; a repeated
 * request continues the running rejoin; a request for the newest-timeline node, or with the wrong
 * timeline, is refused and changes nothing.
 */
class RejoinIT {
  @RegisterExtension
  static PostgresPairExtension pg =
      new PostgresPairExtension(() -> PairLayout.loopback().withRewind(PairLayout.Rewind.ON));

  @TempDir Path dir;

  @BeforeAll
  static void roles() throws Exception {
    AgentFixture.roles(pg.pair());
    AgentFixture.execute(pg.primary(), "CREATE TABLE rows_written (id int PRIMARY KEY)");
  }

  @BeforeEach
  void healthy() {
    pg.pair().restoreHealthy();
  }

  /** The standby is promoted; the old primary goes on writing: a diverged tail only it has. */
  private record Split(PgNode oldPrimary, PgNode newPrimary, long newTimeline) {}

  private Split promoteAndDiverge(int base) throws Exception {
    PgNode oldPrimary = pg.primary();
    PgNode newPrimary = pg.standby();
    AgentFixture.execute(oldPrimary, "INSERT INTO rows_written VALUES (" + base + ")");
    Waits.until(
        "row " + base + " on the standby",
        Duration.ofSeconds(30),
        () ->
            "1"
                .equals(
                    AgentFixture.query(
                        newPrimary, "SELECT count(*) FROM rows_written WHERE id = " + base)));
    pg.promote(newPrimary);
    AgentFixture.execute(
        oldPrimary,
        "INSERT INTO rows_written SELECT generate_series(" + (base + 1) + ", " + (base + 10) + ")");
    AgentFixture.execute(newPrimary, "INSERT INTO rows_written VALUES (" + (base + 100) + ")");
    return new Split(oldPrimary, newPrimary, AgentFixture.timeline(newPrimary));
  }

  private static RejoinRequest request(Split s) {
    return new RejoinRequest(
        s.newPrimary().host() + ":" + s.newPrimary().port(),
        s.newTimeline(),
        Optional.empty(),
        Optional.empty());
  }

  @Test
  void theOldPrimaryIsRewoundOntoTheNewPrimaryLosingOnlyItsOwnRowsAndStreams() throws Exception {
    Split s = promoteAndDiverge(100);
    try (AgentFixture agent = new AgentFixture(s.oldPrimary(), dir.resolve("old"), false)) {
      RejoinReply reply = agent.client.rejoin(agent.name, request(s));
      assertEquals(RejoinOutcome.STARTED, reply.outcome(), reply.detail());
      Rejoin done = agent.awaitDone();
      assertEquals(Method.REWIND, done.method());
      assertEquals(
          List.of(
              RejoinPhase.CHECKING,
              RejoinPhase.STOPPING,
              RejoinPhase.REWINDING,
              RejoinPhase.CONFIGURING,
              RejoinPhase.STARTING,
              RejoinPhase.AWAITING_STREAM),
          done.steps().stream().map(st -> st.step()).toList());

      PgNode old = s.oldPrimary();
      assertEquals("t", AgentFixture.query(old, "SELECT pg_is_in_recovery()"));
      assertEquals(
          "streaming " + s.newPrimary().port(),
          AgentFixture.query(old, "SELECT status || ' ' || sender_port FROM pg_stat_wal_receiver"));
      Waits.until(
          "the new primary's row on the rejoined node",
          Duration.ofSeconds(30),
          () ->
              "1"
                  .equals(
                      AgentFixture.query(old, "SELECT count(*) FROM rows_written WHERE id = 200")));
      assertEquals(
          "0",
          AgentFixture.query(old, "SELECT count(*) FROM rows_written WHERE id BETWEEN 101 AND 110"),
          "rows written only to the old primary after the promotion are gone");
      assertEquals(
          "1", AgentFixture.query(old, "SELECT count(*) FROM rows_written WHERE id = 100"));
      assertEquals(
          agent.name + " streaming pgfailover_pg_" + old.name(),
          AgentFixture.query(
              s.newPrimary(),
              "SELECT r.application_name || ' ' || r.state || ' ' || s.slot_name FROM"
                  + " pg_stat_replication r JOIN pg_replication_slots s ON s.active_pid = r.pid"));

      String auto = Files.readString(old.dataDir().resolve("postgresql.auto.conf"));
      assertTrue(auto.contains("passfile="), auto);
      assertFalse(
          auto.contains(AgentFixture.REPLICATION_PW), "no password in postgresql.auto.conf");
      assertFalse(auto.contains("synchronous_standby_names"), auto);
      assertEquals(
          "rw-------",
          PosixFilePermissions.toString(
              Files.getPosixFilePermissions(agent.config.replication().passfile())));
      List<String> events = agent.events();
      for (String e : List.of("rejoin_started", "rewound", "rejoin_finished")) {
        assertTrue(events.stream().anyMatch(l -> l.contains("\"event\":\"" + e + "\"")), e);
      }
      assertTrue(
          events.stream()
              .filter(l -> l.contains("\"event\":\"rejoin_finished\""))
              .allMatch(l -> l.contains("\"ms\":") && l.contains("\"method\":\"REWIND\"")));

      // The same request again: the node already streams from that source, nothing to do.
      RejoinReply again = agent.client.rejoin(agent.name, request(s));
      assertEquals(RejoinOutcome.NOTHING_TO_DO, again.outcome(), again.detail());

      // A restarted agent still tells how its last rejoin ended.
      agent.stop();
      agent.start();
      Rejoin after = agent.client.rejoinState(agent.name).value().orElseThrow();
      assertEquals(RejoinPhase.DONE, after.state());
      assertEquals(done.startedAt(), after.startedAt());
      assertEquals(Role.STANDBY, agent.client.facts(agent.name).value().orElseThrow().role());

      // Its primary dies at once: with no WAL receiver left, the controller's probe must still
      // see the rewound standby on the new timeline (its control file's checkpoint is the last
      // common one, on the old timeline, until a restartpoint), or it would never promote it.
      pg.pair().kill(s.newPrimary());
      try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
        ProbeResult r =
            probe.probe(
                NodeEndpoint.of(
                    agent.name,
                    old.host(),
                    old.port(),
                    "postgres",
                    old.superuser(),
                    PasswordSource.literal(old.superuserPassword())));
        assertTrue(r.isStandby(), r.toString());
        assertEquals(OptionalLong.of(s.newTimeline()), r.timeline(), r.toString());
      }
    }
    pg.pair().refreshRoles();
    assertEquals(s.newPrimary(), pg.primary());
    assertEquals(s.oldPrimary(), pg.standby());
  }

  @Test
  void aRepeatedRequestContinuesTheRunningRejoinAndAnotherOneIsRefused() throws Exception {
    Split s = promoteAndDiverge(300);
    CountDownLatch atRewind = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (AgentFixture agent =
        new AgentFixture(
            s.oldPrimary(),
            dir.resolve("old"),
            false,
            phase -> {
              if (phase == RejoinPhase.REWINDING) {
                atRewind.countDown();
                try {
                  release.await(2, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              }
            })) {
      RejoinReply first = agent.client.rejoin(agent.name, request(s));
      assertEquals(RejoinOutcome.STARTED, first.outcome(), first.detail());
      assertTrue(atRewind.await(2, TimeUnit.MINUTES), "the rejoin reaches REWINDING");

      RejoinReply same = agent.client.rejoin(agent.name, request(s));
      assertEquals(RejoinOutcome.CONTINUES, same.outcome(), same.detail());
      assertEquals(RejoinPhase.REWINDING, same.rejoin().orElseThrow().state());
      assertEquals(first.rejoin().orElseThrow().startedAt(), same.rejoin().get().startedAt());

      RejoinRequest other =
          new RejoinRequest(
              request(s).source(), s.newTimeline() + 1, Optional.empty(), Optional.empty());
      RejoinReply refused = agent.client.rejoin(agent.name, other);
      assertEquals(RejoinOutcome.REFUSED, refused.outcome(), refused.detail());
      assertTrue(refused.detail().startsWith("another rejoin runs"), refused.detail());
      StepResult start = agent.client.start(agent.name);
      assertFalse(start.ok(), "start waits for the rejoin: " + start.detail());

      release.countDown();
      assertEquals(Method.REWIND, agent.awaitDone().method());
      assertEquals(
          1,
          agent.events().stream().filter(l -> l.contains("\"event\":\"rejoin_started\"")).count());
    }
  }

  @Test
  void aRejoinOfTheNewestTimelineNodeOrToTheWrongTimelineIsRefusedAndChangesNothing()
      throws Exception {
    Split s = promoteAndDiverge(500);
    PgNode old = s.oldPrimary();
    PgNode newest = s.newPrimary();
    long oldPid = old.pid();
    long newestPid = newest.pid();
    try (AgentFixture onNewest = new AgentFixture(newest, dir.resolve("newest"), false);
        AgentFixture onOld = new AgentFixture(old, dir.resolve("old"), false)) {
      String oldAddress = old.host() + ":" + old.port();
      long oldTimeline = AgentFixture.timeline(old);

      // The newest-timeline node asked to follow the old primary (a primary on its own, older,
      // timeline).
      RejoinReply newestRefused =
          onNewest.client.rejoin(
              onNewest.name,
              new RejoinRequest(oldAddress, oldTimeline, Optional.empty(), Optional.empty()));
      assertEquals(RejoinOutcome.REFUSED, newestRefused.outcome(), newestRefused.detail());
      assertTrue(
          newestRefused.detail().contains("never rewind the newest timeline"),
          newestRefused.detail());

      // The old primary asked to follow itself: a primary on the timeline it would rejoin.
      RejoinReply self =
          onOld.client.rejoin(
              onOld.name,
              new RejoinRequest(oldAddress, oldTimeline, Optional.empty(), Optional.empty()));
      assertEquals(RejoinOutcome.REFUSED, self.outcome(), self.detail());
      assertTrue(self.detail().contains("split brain"), self.detail());

      // The old primary asked to follow the new one on a timeline it is not on.
      RejoinReply wrong =
          onOld.client.rejoin(
              onOld.name,
              new RejoinRequest(
                  newest.host() + ":" + newest.port(),
                  s.newTimeline() + 1,
                  Optional.empty(),
                  Optional.empty()));
      assertEquals(RejoinOutcome.REFUSED, wrong.outcome(), wrong.detail());
      assertTrue(
          wrong.detail().contains("not on the expected timeline " + (s.newTimeline() + 1)),
          wrong.detail());

      assertEquals(oldPid, old.pid());
      assertEquals(newestPid, newest.pid());
      assertEquals("f", AgentFixture.query(old, "SELECT pg_is_in_recovery()"));
      assertEquals("f", AgentFixture.query(newest, "SELECT pg_is_in_recovery()"));
      assertEquals(
          "10",
          AgentFixture.query(
              old, "SELECT count(*) FROM rows_written WHERE id BETWEEN 501 AND 510"));
      for (AgentFixture a : List.of(onNewest, onOld)) {
        assertEquals(RejoinPhase.IDLE, a.client.rejoinState(a.name).value().orElseThrow().state());
        List<String> events = a.events();
        assertTrue(events.stream().anyMatch(l -> l.contains("\"event\":\"rejoin_refused\"")));
        assertTrue(events.stream().noneMatch(l -> l.contains("\"event\":\"action_started\"")));
      }
    }
  }
}
