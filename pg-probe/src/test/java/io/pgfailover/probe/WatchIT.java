package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static io.pgfailover.probe.TestNodes.execute;
import static io.pgfailover.probe.TestNodes.query;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link PgProbe#watch}: the probe's queries on one session kept open between calls. It keeps one
 * backend, not a new login per call; a frozen node is a TIMEOUT at the deadline while still frozen,
 * and its session is dropped after a second deadline without the answer; a query answered late is
 * taken by the next call; a session ended from outside is no failure (a full probe answers); a
 * killed node fails. Outcomes only, never times; each test restores the pair.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class WatchIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  static final String WATCH_BACKENDS =
      "SELECT string_agg(pid::text, ',') FROM pg_stat_activity"
          + " WHERE application_name = 'pgfailover-probe'";

  @Test
  void aLiveNodeIsWatchedOnOneSessionKeptOpen() throws Exception {
    PgNode primary = pg.primary();
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      ProbeResult first = probe.watch(endpoint(primary));
      assertTrue(first.reachable(), first.toString());
      String backend = query(primary, WATCH_BACKENDS);
      assertFalse(backend == null || backend.contains(","), "one session is open: " + backend);
      for (int i = 0; i < 5; i++) {
        ProbeResult r = probe.watch(endpoint(primary));
        assertTrue(r.reachable(), r.toString());
        assertEquals(Role.PRIMARY, r.role());
      }
      assertEquals(backend, query(primary, WATCH_BACKENDS), "the same one, not a login per call");
    }
    assertEquals(null, query(primary, WATCH_BACKENDS), "closing the probe closes it");
  }

  @Test
  void aFrozenNodeIsATimeoutOnItsSessionWhileStillFrozenTwiceThenTheSessionIsDropped()
      throws Exception {
    PgNode primary = pg.primary();
    Duration deadline = Duration.ofMillis(700);
    try (PgProbe probe = new PgProbe(new ProbeSettings(deadline, deadline.dividedBy(2), false))) {
      assertTrue(probe.watch(endpoint(primary)).reachable(), "a session is open");
      String backend = query(primary, WATCH_BACKENDS);
      pg.freeze(primary);
      try {
        ProbeResult r = probe.watch(endpoint(primary));
        assertTrue(primary.isFrozen(), "it returned while the primary was still frozen");
        assertEquals(Reachability.TIMEOUT, r.reachability(), r.toString());
        assertEquals(
            "no answer on its open session within the probe deadline " + deadline,
            r.error().orElseThrow());
        assertTrue(r.latency().compareTo(deadline) >= 0, "it waited its deadline: " + r);
        ProbeResult again = probe.watch(endpoint(primary));
        assertTrue(primary.isFrozen(), "it returned while the primary was still frozen");
        assertEquals(Reachability.TIMEOUT, again.reachability(), again.toString());
        assertEquals(
            "no answer on its open session within two probe deadlines " + deadline,
            again.error().orElseThrow());
      } finally {
        pg.thaw(primary);
      }
      assertTrue(probe.watch(endpoint(primary)).reachable(), "after the thaw: a full probe");
      String after = query(primary, WATCH_BACKENDS);
      assertFalse(backend.equals(after), "a new session, the old one was dropped: " + after);
    }
  }

  @Test
  void aQueryAnsweredAfterItsDeadlineIsTakenByTheNextCallOnTheSameSession() throws Exception {
    PgNode primary = pg.primary();
    Duration deadline = Duration.ofMillis(700);
    try (PgProbe probe = new PgProbe(new ProbeSettings(deadline, deadline.dividedBy(2), false))) {
      assertTrue(probe.watch(endpoint(primary)).reachable(), "a session is open");
      String backend = query(primary, WATCH_BACKENDS);
      pg.freeze(primary);
      ProbeResult r;
      try {
        r = probe.watch(endpoint(primary));
      } finally {
        pg.thaw(primary);
      }
      assertEquals(Reachability.TIMEOUT, r.reachability(), r.toString());
      // The thawed server answers the query it was sent while frozen; the next call takes that
      // answer and queries again on the same session.
      ProbeResult next = probe.watch(endpoint(primary));
      assertTrue(next.reachable(), next.toString());
      assertEquals(backend, query(primary, WATCH_BACKENDS), "the same session, kept");
    }
  }

  @Test
  void aSessionEndedFromOutsideIsNoFailure() throws Exception {
    PgNode primary = pg.primary();
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      assertTrue(probe.watch(endpoint(primary)).reachable());
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
