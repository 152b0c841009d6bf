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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A primary that stops answering. What is asserted is the outcome, never a time (how close to its
 * deadline a probe returns is a figure of bench/probe.sh): a probe of a frozen node returns while
 * the node is still frozen, as TIMEOUT from the probe's own deadline (not from a driver timeout),
 * having waited that deadline; one frozen node does not hold up the others. The JUnit timeout only
 * catches a hang. Each test restores the pair.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class FailureIT {

  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();

  /**
   * 300 ms and 1.5 s are not whole seconds: the driver's own timeouts could not give these
   * deadlines, so the message tells which mechanism answered.
   */
  @ParameterizedTest(name = "deadline {0} ms")
  @ValueSource(ints = {300, 1000, 1500})
  void aFrozenPrimaryIsReportedTimeoutByTheProbesDeadlineWhileStillFrozen(int deadlineMs)
      throws Exception {
    Duration deadline = Duration.ofMillis(deadlineMs);
    PgNode primary = pg.primary();
    try (PgProbe probe = new PgProbe(new ProbeSettings(deadline, deadline.dividedBy(2), false))) {
      pg.freeze(primary);
      try {
        List<ProbeResult> r = probe.probeAll(List.of(endpoint(primary), endpoint(pg.standby())));

        assertTrue(primary.isFrozen(), "the probe returned while the primary was still frozen");
        assertEquals(Reachability.TIMEOUT, r.get(0).reachability(), r.get(0).toString());
        assertEquals(
            "no answer within the probe deadline "
                + deadline
                + " (connect, login and queries; "
                + PgProbe.TRIES
                + " connections)",
            r.get(0).error().orElseThrow());
        assertTrue(r.get(0).latency().compareTo(deadline) >= 0, "it waited its deadline: " + r);
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
    try (PgProbe probe = new PgProbe(ProbeSettings.defaults())) {
      pg.kill(primary);
      try {
        ProbeResult r = probe.probe(endpoint(primary));
        assertTrue(
            Set.of(Reachability.REFUSED, Reachability.TIMEOUT).contains(r.reachability()),
            r.toString());

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
