package io.pgfailover.controller.lease;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.LeaseConfig;
import io.pgfailover.controller.lease.Leadership.Role;
import io.pgfailover.controller.port.LeaseStore.Lease;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The lease rules on an in-memory store and a hand-driven monotonic clock: no sleeps, every step
 * explicit. Duration 10 s, renewal every 2 s, acting window 8 s (safety margin 2 s).
 */
class LeadershipTest {
  static final LeaseConfig CONFIG = MemoryLeaseStoreAccess.CONFIG;

  final MemoryLeaseStore store = new MemoryLeaseStore();
  final AtomicLong nanos = new AtomicLong(1_000_000_000L);
  final Leadership a = Leadership.of(CONFIG, store, nanos::get, nanos::addAndGet, null);
  final Leadership b = Leadership.of(CONFIG, store, nanos::get, nanos::addAndGet, null);

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

  @Test
  void aFollowerCountsFromARenewalItsWatchSawBetweenTicks() {
    a.tick();
    b.tick(); // b follows a's first renewal id
    advance(2_000);
    a.tick(); // a renews: a new id
    advance(CONFIG.watchInterval().toMillis());
    b.watch(); // a watch interval later b has seen it, without waiting for its next tick
    assertEquals(
        CONFIG.duration(),
        b.takeoverDueIn().orElseThrow(),
        "the count restarted at the watch's read, not at a later tick");
    advance(CONFIG.duration().toMillis() - 1); // a dies; b's ticks read the same id meanwhile
    b.tick();
    assertEquals(Role.FOLLOWER, b.view().role());
    advance(1);
    b.tick();
    assertEquals(Role.LEADER, b.view().role());
  }

  @Test
  void aWatchNeitherTakesOverNorCountsAFailedRead() {
    a.tick();
    b.tick();
    advance(CONFIG.duration().toMillis());
    b.watch(); // due, but only a tick takes over
    assertEquals(Leadership.State.WATCHING, b.state());
    assertEquals(List.of("take " + a.me() + " 1"), store.writes);
    store.unreachable = true;
    b.watch();
    assertEquals(Role.UNKNOWN, b.view().role(), "a failed read is not a sighting");
    store.unreachable = false;
    b.tick();
    assertEquals(Role.LEADER, b.view().role(), "the count from the last sighting still holds");
  }

  @Test
  void aWatchAnswerOlderThanATicksIsDropped() {
    a.tick();
    b.tick();
    Leadership watched =
        Leadership.of(CONFIG, new AnswerLate(), nanos::get, nanos::addAndGet, null);
    watched.tick(); // follows a's first id
    late =
        () -> { // after the watch's read returned the first id, and before it is counted:
          advance(2_000);
          a.tick(); // a renews
          advance(100);
          watched.tick(); // the tick sees the new id and starts the count here
        };
    watched.watch(); // answers the first id, which is older than what the tick counted
    advance(CONFIG.duration().toMillis() - 1); // a dies
    watched.tick();
    assertEquals(
        Duration.ofMillis(1),
        watched.takeoverDueIn().orElseThrow(),
        "the count is the tick's: the older answer did not restart it");
    advance(1);
    watched.tick();
    assertEquals(Role.LEADER, watched.view().role());
  }

  /** Runs {@link #late} (once) after a read returned and before its caller sees the answer. */
  Runnable late;

  final class AnswerLate implements io.pgfailover.controller.port.LeaseStore {
    @Override
    public java.util.Optional<Lease> read() {
      java.util.Optional<Lease> answer = store.read();
      Runnable r = late;
      late = null;
      if (r != null) {
        r.run();
      }
      return answer;
    }

    @Override
    public java.util.Optional<Lease> take(
        java.util.Optional<Lease> seen, String owner, Duration duration) {
      return store.take(seen, owner, duration);
    }

    @Override
    public java.util.Optional<Lease> renew(String owner, long token, Duration duration) {
      return store.renew(owner, token, duration);
    }

    @Override
    public boolean release(String owner, long token) {
      return store.release(owner, token);
    }
  }

  @Test
  void aTickWaitsForATakeoverDueWithinItsBoundAndMakesIt() {
    a.tick();
    b.tick(); // b first sees a's id: takeover due in exactly the duration
    long firstSeen = nanos.get();
    advance(CONFIG.duration().toMillis() - 1_000);
    b.tick(Duration.ofMillis(999));
    assertEquals(Role.FOLLOWER, b.view().role(), "due in 1000 ms: more than this tick may wait");
    assertEquals(firstSeen + CONFIG.duration().minusSeconds(1).toNanos(), nanos.get());
    b.tick(Duration.ofSeconds(1));
    assertEquals(Role.LEADER, b.view().role(), "this tick takes over: not the next one");
    assertEquals(
        firstSeen + CONFIG.duration().toNanos(),
        nanos.get(),
        "at the first sighting + duration: not one nanosecond before");
  }

  @Test
  void aLeaderThatRenewsWhileTheTickWaitsKeepsTheLease() {
    a.tick();
    b.tick();
    advance(CONFIG.duration().toMillis() - 500);
    Leadership slow =
        Leadership.of(
            CONFIG,
            store,
            nanos::get,
            n -> { // a's renewal lands during the wait
              nanos.addAndGet(n);
              a.beforeMutating(false);
            },
            null);
    slow.tick();
    advance(CONFIG.duration().toMillis() - 500);
    slow.tick(Duration.ofSeconds(1));
    assertEquals(Role.FOLLOWER, slow.view().role(), "the take failed its condition");
    assertEquals(a.me(), store.item().orElseThrow().owner());
  }

  /**
   * A leader renewing every loop and dying at a random moment; the follower's watch and ticks at
   * random phases. The take is never sent before the leader's last write + duration (the old
   * leader's acting window ends a safety margin before that), and it comes at most a watch interval
   * after that.
   */
  @Test
  void aTakeoverComesNoEarlierThanTheLastRenewalPlusTheDurationAndAtMostAWatchIntervalLater() {
    java.util.Random random = new java.util.Random(13);
    long ms = 1_000_000L;
    for (int run = 0; run < 200; run++) {
      MemoryLeaseStore shared = new MemoryLeaseStore();
      java.util.Map<String, Long> lastWrite = new java.util.HashMap<>();
      AtomicLong clock = new AtomicLong(1_000_000_000L);
      io.pgfailover.controller.port.LeaseStore timed =
          new io.pgfailover.controller.port.LeaseStore() {
            @Override
            public java.util.Optional<Lease> read() {
              return shared.read();
            }

            @Override
            public java.util.Optional<Lease> take(
                java.util.Optional<Lease> seen, String owner, Duration duration) {
              java.util.Optional<Lease> l = shared.take(seen, owner, duration);
              l.ifPresent(x -> lastWrite.put(owner, clock.get()));
              return l;
            }

            @Override
            public java.util.Optional<Lease> renew(String owner, long token, Duration duration) {
              java.util.Optional<Lease> l = shared.renew(owner, token, duration);
              l.ifPresent(x -> lastWrite.put(owner, clock.get()));
              return l;
            }

            @Override
            public boolean release(String owner, long token) {
              return shared.release(owner, token);
            }
          };
      Leadership leader = Leadership.of(CONFIG, timed, clock::get, clock::addAndGet, null);
      Leadership follower = Leadership.of(CONFIG, timed, clock::get, clock::addAndGet, null);
      leader.tick();
      long dies = clock.get() + (5_000 + random.nextInt(20_000)) * ms;
      long loop = CONFIG.renewInterval().toNanos() / 2;
      long watch = CONFIG.watchInterval().toNanos();
      long nextLeader = clock.get() + random.nextInt(1_000) * ms;
      long nextTick = clock.get() + random.nextInt(1_000) * ms;
      long nextWatch = clock.get() + random.nextInt(500) * ms;
      while (!follower.leads()) {
        long leaderNext = nextLeader < dies ? nextLeader : Long.MAX_VALUE;
        long next = Math.min(leaderNext, Math.min(nextTick, nextWatch));
        clock.set(Math.max(clock.get(), next));
        if (next == leaderNext) {
          leader.tick();
          nextLeader += loop;
        } else if (next == nextTick) {
          follower.tick(Duration.ofNanos(loop)); // the loop wakes this much before a takeover
          nextTick += loop;
        } else {
          follower.watch();
          nextWatch += watch;
        }
      }
      long taken = lastWrite.get(follower.me());
      long renewed = lastWrite.get(leader.me());
      assertTrue(
          taken - renewed >= CONFIG.duration().toNanos(),
          "run " + run + ": taken " + (taken - renewed) / ms + " ms after the last renewal");
      assertTrue(
          taken - renewed <= CONFIG.duration().plus(CONFIG.watchInterval()).toNanos(),
          "run " + run + ": taken " + (taken - renewed) / ms + " ms after the last renewal");
    }
  }
}
