package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static io.pgfailover.probe.TestNodes.execute;
import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link PgProbe#watch}: the probe's queries on two sessions kept open between calls. It keeps two
 * backends, not a new login per call, opened ahead where asked; a frozen node is a TIMEOUT at the
 * deadline while still frozen, and its sessions are dropped after a second deadline without an
 * answer; a query answered late is taken by the next call on the same sessions; sessions ended from
 * outside are no failure (a full probe answers); a killed node fails. Outcomes only, never times;
 * each test restores the pair.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class WatchIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  static final String WATCH_BACKENDS =
      "SELECT string_agg(pid::text, ',' ORDER BY pid) FROM pg_stat_activity"
          + " WHERE application_name = 'pgfailover-probe'";

  /** Whether a backend still runs: append its pid. */
  static final String WATCH_OPEN_AS = "SELECT count(*) > 0 FROM pg_stat_activity WHERE pid = ";

  @Test
  void aLiveNodeIsWatchedOnTwoSessionsKeptOpen() throws Exception {
    PgNode primary = pg.primary();
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      String backends = watchOnSessions(probe, primary);
      for (int i = 0; i < 5; i++) {
        ProbeResult r = probe.watch(endpoint(primary));
        assertTrue(r.reachable(), r.toString());
        assertEquals(Role.PRIMARY, r.role());
      }
      assertEquals(backends, query(primary, WATCH_BACKENDS), "the same two, not a login per call");
    }
    assertEquals(null, query(primary, WATCH_BACKENDS), "closing the probe closes them");
  }

  /**
   * Sessions opened ahead ({@link PgProbe#openWatch}): the first call already answers on them, not
   * through a full probe (which would leave no answer sent on a session behind it).
   */
  @Test
  void sessionsOpenedAheadAnswerTheFirstCall() throws Exception {
    PgNode primary = pg.primary();
    String name = endpoint(primary).name();
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      probe.openWatch(endpoint(primary)).get(10, TimeUnit.SECONDS);
      assertTrue(probe.lastAnswerSent(name).isEmpty(), "nothing asked on them yet");
      ProbeResult r = probe.watch(endpoint(primary));
      assertTrue(r.reachable(), r.toString());
      assertTrue(probe.lastAnswerSent(name).isPresent(), "answered on a session: " + r);
      String backends = query(primary, WATCH_BACKENDS);
      probe.openWatch(endpoint(primary)).get(10, TimeUnit.SECONDS);
      assertTrue(probe.watch(endpoint(primary)).reachable());
      assertEquals(
          backends, query(primary, WATCH_BACKENDS), "opening them again, once open, opens none");
    }
  }

  /**
   * The first call probes afresh and opens the sessions in the background; once both are open, one
   * more call takes them. Returns their backends.
   */
  private static String watchOnSessions(PgProbe probe, PgNode primary) throws Exception {
    ProbeResult first = probe.watch(endpoint(primary));
    assertTrue(first.reachable(), first.toString());
    Waits.until(
        "the watch's two sessions are open",
        Duration.ofSeconds(10),
        () -> {
          String b = query(primary, WATCH_BACKENDS);
          return b != null && b.split(",").length == PgProbe.WATCH_SESSIONS;
        });
    // Open on the server's side may still be opening on the probe's: a call adopts only the
    // connections done opening, and goes through a full probe until then.
    Waits.until(
        "a watch call answered on the sessions",
        Duration.ofSeconds(10),
        () ->
            probe.watch(endpoint(primary)).reachable()
                && probe.lastAnswerSent(endpoint(primary).name()).isPresent());
    return query(primary, WATCH_BACKENDS);
  }

  @Test
  void aFrozenNodeIsATimeoutOnItsSessionWhileStillFrozenTwiceThenTheSessionIsDropped()
      throws Exception {
    PgNode primary = pg.primary();
    Duration deadline = Duration.ofMillis(700);
    try (PgProbe probe = new PgProbe(new ProbeSettings(deadline, deadline.dividedBy(2), false))) {
      String backend = watchOnSessions(probe, primary);
      pg.freeze(primary);
      try {
        ProbeResult r = probe.watch(endpoint(primary));
        assertTrue(primary.isFrozen(), "it returned while the primary was still frozen");
        assertEquals(Reachability.TIMEOUT, r.reachability(), r.toString());
        assertEquals(
            "no answer on its open sessions within the probe deadline " + deadline,
            r.error().orElseThrow());
        assertTrue(r.latency().compareTo(deadline) >= 0, "it waited its deadline: " + r);
        ProbeResult again = probe.watch(endpoint(primary));
        assertTrue(primary.isFrozen(), "it returned while the primary was still frozen");
        assertEquals(Reachability.TIMEOUT, again.reachability(), again.toString());
        assertEquals(
            "no answer on its open sessions within the probe deadline " + deadline,
            again.error().orElseThrow());
        assertTrue(
            probe.openWatch(endpoint(primary)).isDone(),
            "sessions dropped for silence are not opened again ahead: the next call's full probe"
                + " comes first");
      } finally {
        pg.thaw(primary);
      }
      ProbeResult thawed = probe.watch(endpoint(primary));
      assertTrue(thawed.reachable(), "after the thaw: a full probe: " + thawed);
      // Their backends end once the thawed server writes to the closed connections.
      Waits.until(
          "the sessions unanswered twice were dropped",
          Duration.ofSeconds(10),
          () -> {
            for (String pid : backend.split(",")) {
              if ("t".equals(query(primary, WATCH_OPEN_AS + pid))) {
                return false;
              }
            }
            return true;
          });
    }
  }

  @Test
  void aQueryAnsweredAfterItsDeadlineIsTakenByTheNextCallOnTheSameSession() throws Exception {
    PgNode primary = pg.primary();
    Duration deadline = Duration.ofMillis(700);
    try (PgProbe probe = new PgProbe(new ProbeSettings(deadline, deadline.dividedBy(2), false))) {
      String backend = watchOnSessions(probe, primary);
      String name = endpoint(primary).name();
      long answeredBefore = probe.lastAnswerSent(name).orElseThrow();
      pg.freeze(primary);
      ProbeResult r;
      try {
        r = probe.watch(endpoint(primary));
      } finally {
        pg.thaw(primary);
      }
      assertEquals(Reachability.TIMEOUT, r.reachability(), r.toString());
      Waits.until(
          "the late answer counts as it comes, before the next call",
          Duration.ofSeconds(10),
          () -> probe.lastAnswerSent(name).orElseThrow() > answeredBefore);
      // The thawed server answers the query it was sent while frozen; the next call takes that
      // answer and queries again on the same session.
      ProbeResult next = probe.watch(endpoint(primary));
      assertTrue(next.reachable(), next.toString());
      assertEquals(backend, query(primary, WATCH_BACKENDS), "the same sessions, kept");
    }
  }

  @Test
  void aSessionEndedFromOutsideIsNoFailure() throws Exception {
    PgNode primary = pg.primary();
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      watchOnSessions(probe, primary);
      execute(
          primary,
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
              + " WHERE application_name = 'pgfailover-probe'");
      ProbeResult r = probe.watch(endpoint(primary));
      assertTrue(r.reachable(), "a full probe answered for the broken session: " + r);
    }
  }

  @Test
  void aKilledNodeFails() throws Exception {
    PgNode primary = pg.primary();
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      assertTrue(probe.watch(endpoint(primary)).reachable());
      pg.kill(primary);
      try {
        ProbeResult r = probe.watch(endpoint(primary));
        assertFalse(r.reachable(), r.toString());
        assertFalse(r.reachability() == Reachability.SLOW, r.toString());
      } finally {
        pg.start(primary);
      }
    }
  }
}
