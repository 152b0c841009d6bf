package io.pgfailover.probe;

import static io.pgfailover.probe.TestNodes.endpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A primary that stops answering. The bounds asserted here are the probe's never-hang guarantee (a
 * correctness property), not a speed measurement: a probe of a dead or frozen node must return by
 * its deadline (+10 % for scheduling), whatever the driver's whole-second timeouts would do. Each
 * test restores the pair.
 */
class FailureIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  /**
   * 300 ms and 1.5 s are not whole seconds: the driver's own timeouts could not give these bounds.
   */
  @ParameterizedTest(name = "deadline {0} ms")
  @ValueSource(ints = {300, 1000, 1500})
  void frozenPrimaryIsTimeoutWithinTheDeadline(int deadlineMs) throws Exception {
    Duration deadline = Duration.ofMillis(deadlineMs);
    Duration bound = deadline.plus(deadline.dividedBy(10));
    PgNode primary = pg.primary();
    try (PgProbe probe = new PgProbe(new ProbeSettings(deadline, deadline.dividedBy(2), false))) {
      pg.freeze(primary);
      try {
        long start = System.nanoTime();
        List<ProbeResult> r = probe.probeAll(List.of(endpoint(primary), endpoint(pg.standby())));
        Duration took = Duration.ofNanos(System.nanoTime() - start);

        assertEquals(Reachability.TIMEOUT, r.get(0).reachability(), r.get(0).toString());
        assertTrue(took.compareTo(bound) <= 0, "probe took " + took + ", bound " + bound);
        assertTrue(r.get(0).latency().compareTo(bound) <= 0, r.get(0).toString());
        // One frozen node does not hold up the others.
        assertEquals(Reachability.REACHABLE, r.get(1).reachability(), r.get(1).toString());
      } finally {
        pg.thaw(primary);
      }
      ProbeResult again = probe.probe(endpoint(primary));
      assertEquals(Reachability.REACHABLE, again.reachability(), again.toString());
    }
  }

  @Test
  void killedPrimaryIsRefusedOrTimeoutAndTheStandbyShowsItsGap() {
    PgNode primary = pg.primary();
    PgNode standby = pg.standby();
    Duration deadline = Duration.ofSeconds(1);
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      pg.kill(primary);
      try {
        long start = System.nanoTime();
        ProbeResult r = probe.probe(endpoint(primary));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertTrue(
            Set.of(Reachability.REFUSED, Reachability.TIMEOUT).contains(r.reachability()),
            r.toString());
        assertTrue(
            took.compareTo(deadline.plus(deadline.dividedBy(10))) <= 0, "probe took " + took);

        // The standby stays a standby; its receiver stops streaming; the receive/replay gap is
        // still readable.
        Waits.until(
            "standby to notice the lost primary",
            Duration.ofSeconds(15),
            () -> {
              ProbeResult s = probe.probe(endpoint(standby));
              return s.isStandby()
                  && s.walReceiver().map(w -> !w.streaming()).orElse(true)
                  && ReplicationLag.receiveReplayGap(s).isPresent();
            });
      } finally {
        pg.start(primary);
        pg.pair().awaitStreaming(standby);
      }
    }
  }
}
