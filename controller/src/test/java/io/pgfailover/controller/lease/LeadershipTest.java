package io.pgfailover.controller.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.LeaseConfig;
import io.pgfailover.controller.lease.Leadership.Role;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The lease rules on an in-memory store and a hand-driven monotonic clock: no sleeps, every step
 * explicit. Duration 10 s, renewal every 2 s, acting window 8 s (safety margin 2 s).
 */
class LeadershipTest {
  static final LeaseConfig CONFIG =
      new LeaseConfig(
          "t",
          "ctl",
          Duration.ofSeconds(10),
          Duration.ofSeconds(2),
          Duration.ofSeconds(1),
          Duration.ofSeconds(2));

  final MemoryLeaseStore store = new MemoryLeaseStore();
  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final Leadership a = Leadership.of(CONFIG, store, nanos::get, null);
  final Leadership b = Leadership.of(CONFIG, store, nanos::get, null);

  void advance(long ms) {
    nanos.addAndGet(Duration.ofMillis(ms).toNanos());
  }

  @Test
  void theFirstControllerTakesTokenOneAndTheOtherFollows() {
    a.tick();
    b.tick();
    assertEquals(Role.LEADER, a.view().role());
    assertEquals(Role.FOLLOWER, b.view().role());
    assertEquals(1, a.token());
    assertEquals(a.me(), b.view().holder().orElseThrow());
    assertTrue(a.beforeMutating(false).granted());
    Leadership.Permit refused = b.beforeMutating(false);
    assertFalse(refused.granted());
    assertTrue(refused.reason().contains("not the leader"), refused.reason());
  }

  @Test
  void aFollowerNeverTakesOverFromALeaderThatRenews() {
    a.tick();
    for (int i = 0; i < 30; i++) {
      b.tick();
      advance(1000);
      a.tick();
    }
    assertEquals(Role.FOLLOWER, b.view().role());
    assertEquals(Role.LEADER, a.view().role());
    assertEquals(1, store.item().orElseThrow().token());
  }

  @Test
  void aFollowerTakesOverOnlyAfterTheItemStayedUnchangedForTheDuration() {
    a.tick(); // a leads, then dies: never ticks again
    b.tick(); // b first sees a's renewal id now
    advance(9_999);
    b.tick();
    assertEquals(Role.FOLLOWER, b.view().role(), "one millisecond short of the duration");
    assertEquals(Duration.ofMillis(1), b.takeoverDueIn().orElseThrow());
    assertEquals(Leadership.State.WATCHING, b.state());
    advance(1);
    b.tick();
    assertEquals(Role.LEADER, b.view().role());
    assertEquals(Leadership.State.HOLDING, b.state());
    assertEquals(2, b.token(), "the token grows on every take-over");
  }

  @Test
  void theOldLeaderStopsActingBeforeTheFollowerCanTakeOver() {
    a.tick();
    b.tick();
    advance(CONFIG.actingWindow().toMillis() - 1);
    assertTrue(a.leads());
    advance(1);
    assertFalse(a.leads(), "the acting window (duration − margin) is over by a's own clock");
    b.tick();
    assertEquals(Role.FOLLOWER, b.view().role(), "and b still waits out the margin");
  }

  @Test
  void aLeaderFrozenPastItsLeaseDoesNotActWhenItThaws() {
    a.tick();
    assertTrue(a.beforeMutating(false).granted());
    b.tick();
    advance(10_000); // a is frozen: no ticks, no renewals
    b.tick();
    assertEquals(Role.LEADER, b.view().role());
    int writes = store.writes.size();
    // a thaws in the middle of its plan and asks before its next action
    assertEquals(Leadership.State.HOLDING, a.state(), "a still believes it holds the lease");
    Leadership.Permit permit = a.beforeMutating(false);
    assertFalse(permit.granted(), permit.reason());
    assertEquals(writes, store.writes.size(), "a wrote nothing: its conditional renewal failed");
    assertEquals(b.me(), store.item().orElseThrow().owner());
    a.tick();
    assertEquals(Role.FOLLOWER, a.view().role());
  }

  @Test
  void aLeaderThatCannotRenewStopsActingAtTheEndOfItsWindow() {
    a.tick();
    store.unreachable = true;
    advance(2_000);
    a.tick(); // renewal fails: the last confirmed window still counts
    assertTrue(a.leads());
    assertFalse(
        a.beforeMutating(false).granted(), "an unconfirmed renewal before an action refuses it");
    advance(6_000);
    a.tick();
    assertFalse(a.leads());
    assertEquals(Role.UNKNOWN, a.view().role());
  }

  @Test
  void withTheStoreUnreachableNobodyTakesOverButAnOperatorsForceActs() {
    a.tick();
    b.tick();
    store.unreachable = true;
    for (int i = 0; i < 30; i++) {
      advance(1000);
      a.tick();
      b.tick();
    }
    assertFalse(a.leads());
    assertFalse(b.leads());
    assertFalse(b.beforeMutating(false).granted());
    Leadership.Permit forced = b.beforeMutating(true);
    assertTrue(forced.granted(), forced.reason());
    assertTrue(forced.reason().contains("--force"));
  }

  @Test
  void aFollowerDueToTakeOverDoesNotHurryTheLoopWhileTheStoreIsUnreachable() {
    a.tick();
    b.tick();
    advance(10_000);
    store.unreachable = true;
    b.tick(); // due, but the take cannot reach the store
    assertFalse(b.leads(), b.view().toString());
    assertTrue(
        b.takeoverDueIn().isEmpty(),
        "the loop keeps its normal interval instead of spinning on a due takeover");
    store.unreachable = false;
    b.tick();
    assertTrue(b.leads(), "once the store answers again the takeover goes through");
  }

  @Test
  void anOperatorsForceDoesNotOverrideALeaderTheStoreNames() {
    a.tick();
    b.tick();
    Leadership.Permit p = b.beforeMutating(true);
    assertFalse(p.granted());
    assertTrue(p.reason().contains("holds the lease; run it there"), p.reason());
  }

  @Test
  void aTakeWhoseAnswerWasLostIsConfirmedByARenewal() {
    store.loseNextAnswer = true;
    a.tick();
    assertFalse(a.leads(), "the outcome is unknown: not leading yet");
    a.tick();
    assertTrue(a.leads());
    assertEquals(1, a.token());
    assertEquals(List.of("take " + a.me() + " 1", "renew " + a.me() + " 1"), store.writes);
  }

  @Test
  void aReleasedLeaseIsTakenAtOnceWithAHigherToken() {
    a.tick();
    b.tick();
    a.release();
    b.tick();
    assertEquals(Role.LEADER, b.view().role());
    assertEquals(2, b.token());
  }

  @Test
  void aLeaderWhoseRenewalIsRefusedStepsDown() {
    a.tick();
    b.tick();
    advance(10_000);
    b.tick(); // b takes over while a was away
    a.tick(); // a's acting window is over: it re-reads and follows
    assertEquals(Role.FOLLOWER, a.view().role());
    assertEquals(2, a.token(), "a follower reports the highest token it saw");
  }

  @Test
  void singleModeAlwaysActsWithTokenZero() {
    Leadership single = Leadership.single();
    single.tick();
    assertTrue(single.leads());
    assertEquals(Role.SINGLE, single.view().role());
    Leadership.Permit p = single.beforeMutating(false);
    assertTrue(p.granted());
    assertEquals(0, p.token());
  }

  @Test
  void theStandingMovesOnlyAlongItsTransitionTable() {
    assertEquals(
        java.util.EnumSet.allOf(Leadership.State.class),
        Leadership.TRANSITIONS.keySet(),
        "every state has its row");
    assertFalse(
        Leadership.TRANSITIONS.get(Leadership.State.HOLDING).contains(Leadership.State.WATCHING),
        "a holder that loses the lease seeks before it watches anyone");
    assertEquals(Leadership.State.SEEKING, a.state(), "a new controller seeks");
  }
}
