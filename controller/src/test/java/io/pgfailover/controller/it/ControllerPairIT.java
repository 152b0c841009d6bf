package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.admin.StatusView;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership.Role;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Step;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller pair on the real PostgreSQL pair, the emulator's EC2 and its DynamoDB lease table:
 * who leads, who takes over, and that exactly one of them ever acts.
 */
class ControllerPairIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  static final Duration LIMIT = Duration.ofSeconds(60);

  /**
   * The take-over bound the issue sets, lease duration + one probe interval, plus what one loop may
   * take beyond its interval (the observe deadline: 2 × probe timeout + 0.5 s), since the lease is
   * ticked by the loop.
   */
  static final Duration TAKEOVER_BOUND =
      LabConfig.LAB_LEASE_DURATION.plusSeconds(1).plusMillis(2_500);

  @TempDir Path dir;
  ControllerPair pair;

  @AfterEach
  void close() throws Exception {
    if (pair != null) {
      pair.close();
    }
  }

  /** a leads (started first), b follows; both have seen a healthy primary. */
  ControllerPair leaderAndFollower() throws Exception {
    pair = new ControllerPair(pg.pair(), aws, dir);
    pair.a.start();
    pair.a.awaitRole(Role.LEADER, LIMIT);
    pair.b.start();
    pair.b.awaitRole(Role.FOLLOWER, LIMIT);
    pair.a.awaitReport("healthy", LIMIT, r -> r.decision().reason() == Reason.HEALTHY);
    pair.b.awaitReport("healthy", LIMIT, r -> r.decision().reason() == Reason.HEALTHY);
    return pair;
  }

  @Test
  void whenTheLeaderDiesTheFollowerLeadsWithinTheBoundWithAHigherToken() throws Exception {
    ControllerPair p = leaderAndFollower();
    // The follower keeps probing and serves status naming the leader.
    JsonNode status =
        StatusView.toJson(
            p.b.config, p.b.loop().last().orElseThrow(), List.of(), p.b.loop().leadership().view());
    assertEquals("FOLLOWER", status.path("controller").path("role").asText());
    assertEquals(p.a.loop().leadership().me(), status.path("controller").path("leader").asText());
    assertEquals("HEALTHY", status.path("reason").asText());
    long tokenBefore = p.a.loop().leadership().token();
    long killedAt = System.nanoTime();
    p.a.kill();
    p.b.awaitRole(Role.LEADER, LIMIT);
    Duration took = Duration.ofNanos(System.nanoTime() - killedAt);
    System.out.println(
        "event=takeover_measured ms=" + took.toMillis() + " bound_ms=" + TAKEOVER_BOUND.toMillis());
    assertTrue(
        took.compareTo(TAKEOVER_BOUND) <= 0,
        "took " + took.toMillis() + " ms, bound " + TAKEOVER_BOUND.toMillis() + " ms");
    // The last renewal may be up to renewInterval + one loop (1 s + 1 s) older than the kill: never
    // sooner.
    assertTrue(
        took.compareTo(LabConfig.LAB_LEASE_DURATION.minusSeconds(2)) >= 0,
        "not before the lease could have lapsed: " + took.toMillis() + " ms");
    assertEquals(tokenBefore + 1, p.b.loop().leadership().token());
    List<JsonNode> events = EventLog.tail(p.b.eventLog, 50);
    JsonNode acquired =
        events.stream()
            .filter(e -> e.path("event").asText().equals("lease_acquired"))
            .reduce((x, y) -> y)
            .orElseThrow();
    assertEquals(tokenBefore + 1, acquired.path("token").asLong());
    assertTrue(
        events.stream().allMatch(e -> e.has("lease_token")),
        "the fencing token is written into every event");
    assertEquals(0, p.a.mutating() + p.b.mutating(), "a healthy cluster: nobody changed anything");
  }

  @Test
  void bothSeeThePrimaryDieAndExactlyOnePromotionAndOneRouteSwitchHappen() throws Exception {
    ControllerPair p = leaderAndFollower();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    pg.kill(primary);
    p.a.awaitReport("failover", LIMIT, r -> r.timeline().filter(t -> t.completed()).isPresent());
    p.b.awaitReport(
        "the follower sees the new primary", LIMIT, r -> r.decision().reason() == Reason.HEALTHY);
    assertTrue(p.routesOn(p.name(standby)), p.routeTargets().toString());
    assertEquals(1, p.a.promotions.get() + p.b.promotions.get(), "exactly one promotion");
    assertEquals(0, p.b.promotions.get());
    assertEquals(0, p.b.mutating(), "the follower sent no mutating EC2 call: " + p.b.mutatingCalls);
    assertEquals(
        p.vpc.routeTableIds().size(),
        p.a.calls("ReplaceRoute"),
        "one route switch: one ReplaceRoute per table: " + p.a.mutatingCalls);
    assertEquals(p.vpc.routeTableIds().size(), p.a.mutating());
  }

  @Test
  void leaderAndPrimaryLostTogetherTheFollowerCompletesTheFailover() throws Exception {
    ControllerPair p = leaderAndFollower();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    p.a.kill();
    pg.kill(primary); // an AZ lost: the primary's host and the leading controller's host together
    LoopReport done =
        p.b.awaitReport(
            "failover through the follower",
            LIMIT,
            r -> r.timeline().filter(t -> t.completed()).isPresent());
    assertEquals(p.name(standby), done.timeline().get().to());
    assertTrue(p.routesOn(p.name(standby)), p.routeTargets().toString());
    assertEquals(1, p.b.promotions.get());
    assertEquals(0, p.a.mutating());
  }

  @Test
  void aLeaderFrozenPastItsLeaseDoesNotActWhenItThaws() throws Exception {
    ControllerPair p = leaderAndFollower();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    p.a.freezeBeforeNextAction();
    p.b.freezeBeforeNextAction(); // holds b too, so a thaws before anyone has acted
    pg.kill(primary);
    assertTrue(
        p.a.frozen.await(LIMIT.toSeconds(), TimeUnit.SECONDS),
        "a decided to fail over and froze before acting");
    p.b.awaitRole(Role.LEADER, LIMIT); // a's lease lapsed while it was frozen
    assertTrue(
        p.b.frozen.await(LIMIT.toSeconds(), TimeUnit.SECONDS), "b took over and is about to act");

    p.a.thaw();
    // The refusal is read from a's event history, not from its last loop report: the thawed loop
    // overran its
    // interval, so the next loop starts at once and may replace that report before a poll sees it.
    Waits.until(
        "ctl-a's thawed plan is refused",
        LIMIT,
        () ->
            EventLog.tail(p.a.eventLog, 200).stream()
                .anyMatch(e -> e.path("event").asText().equals("action_refused")));
    assertEquals(0, p.a.mutating(), "no mutating EC2 call after the thaw: " + p.a.mutatingCalls);
    assertEquals(0, p.a.promotions.get());

    p.b.thaw();
    p.b.awaitReport(
        "failover by the new leader",
        LIMIT,
        r -> r.timeline().filter(t -> t.completed()).isPresent());
    assertTrue(p.routesOn(p.name(standby)), p.routeTargets().toString());
    assertEquals(1, p.b.promotions.get());
    Waits.until("a follows b", LIMIT, () -> p.a.role() == Role.FOLLOWER);
    assertEquals(0, p.a.mutating());
  }

  @Test
  void aFailoverTheOldLeaderLeftHalfDoneIsFinishedByTheNewOne() throws Exception {
    ControllerPair p = leaderAndFollower();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    p.a.dieInNextRouteSwitch();
    pg.kill(primary);
    assertTrue(
        p.a.diedInRouteSwitch.await(LIMIT.toSeconds(), TimeUnit.SECONDS),
        "a promoted, then died before repointing");
    p.a.kill();
    assertEquals(1, p.a.promotions.get());
    assertTrue(p.routesOn(p.name(primary)), "the routes still point at the dead primary");
    p.b.awaitRole(Role.LEADER, LIMIT);
    p.b.awaitReport(
        "the routes follow the promoted standby",
        LIMIT,
        r -> r.decision().reason() == Reason.HEALTHY);
    assertTrue(p.routesOn(p.name(standby)), p.routeTargets().toString());
    assertEquals(0, p.b.promotions.get(), "nothing left to promote");
    assertEquals(p.vpc.routeTableIds().size(), p.b.calls("ReplaceRoute"));
    assertEquals(0, p.a.mutating());
  }

  @Test
  void withTheLeaseStoreUnreachableNeitherFailsOverButAnOperatorsForceDoes() throws Exception {
    ControllerPair p = leaderAndFollower();
    PgNode primary = pg.primary();
    PgNode standby = pg.pair().other(primary);
    try (var ddb = io.pgfailover.testsupport.aws.LeaseTableFixture.client(aws)) {
      ddb.deleteTable(
          r -> r.tableName("lab-lease")); // every lease call now fails: the store cannot answer
    }
    p.a.awaitRole(Role.UNKNOWN, LIMIT); // a's last confirmed renewal ran out
    pg.kill(primary);
    LoopReport waiting =
        p.b.awaitReport(
            "the follower sees the failure but does not act",
            LIMIT,
            r -> r.decision().reason() == Reason.FAILOVER);
    assertTrue(
        waiting.steps().stream().allMatch(s -> s.status() == Step.Status.SKIPPED),
        waiting.steps().toString());
    p.a.awaitReport(
        "the old leader sees it too and does not act",
        LIMIT,
        r -> r.decision().reason() == Reason.FAILOVER);
    assertEquals(0, p.a.mutating() + p.b.mutating());
    assertEquals(0, p.a.promotions.get() + p.b.promotions.get());

    LoopReport forced =
        p.b
            .loop()
            .submit(new Request.Failover(java.util.Optional.empty(), true))
            .get(LIMIT.toSeconds(), TimeUnit.SECONDS);
    assertTrue(forced.ok(), forced.steps().toString());
    assertTrue(p.routesOn(p.name(standby)), p.routeTargets().toString());
    assertEquals(1, p.b.promotions.get());
    assertTrue(
        EventLog.tail(p.b.eventLog, 100).stream()
            .anyMatch(e -> e.path("event").asText().equals("lease_overridden")));
  }
}
