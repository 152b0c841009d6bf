package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.testsupport.pg.PgNode;
import java.time.Duration;
import java.time.Instant;

/**
 * The primary's host crashes (PostgreSQL and its agent SIGKILLed), the controller fails over, the
 * host comes back (PostgreSQL as it was left, then its agent), and the controller rejoins it as a
 * standby of the new primary by itself: shared by the rejoin tests ({@link RejoinMatrix}) and
 * {@code bench/rejoin.sh} ({@link RejoinBench}).
 *
 * @param faultAt when the host crashed
 * @param hostBackAt when the test started bringing the host back
 * @param streamingAt when the new primary first showed the old one streaming: two nodes again
 * @param finished the controller's {@code rejoin_finished} event (method, every step's ms)
 */
record RejoinDrill(Instant faultAt, Instant hostBackAt, Instant streamingAt, JsonNode finished) {
  /** Bound on the failover, and on the rejoin once the host is back (a 1 GB re-clone included). */
  static final Duration LIMIT = Duration.ofMinutes(3);

  /** From the fault until two nodes stream again. */
  long rejoinedMs() {
    return Duration.between(faultAt, streamingAt).toMillis();
  }

  /** From the old primary's host being back until it streams. */
  long streamingAfterHostBackMs() {
    return Duration.between(hostBackAt, streamingAt).toMillis();
  }

  /**
   * Crashes {@code primary}'s host and runs the drill to the end: both nodes streaming from the new
   * primary.
   */
  static RejoinDrill run(NetnsCluster lab, PgNode primary) {
    return run(lab, primary, () -> {});
  }

  /** The same, with {@code whenBack} run as the host comes back (its cut link healed, say). */
  static RejoinDrill run(NetnsCluster lab, PgNode primary, Runnable whenBack) {
    PgNode survivor = lab.pair().other(primary);
    Instant faultAt = Instant.now();
    lab.crashHost(primary);
    awaitFailover(lab, faultAt, survivor);
    Instant hostBackAt = Instant.now();
    whenBack.run();
    lab.restartHost(primary);
    Instant streamingAt = lab.awaitStreaming(survivor, primary, LIMIT);
    JsonNode finished =
        lab.awaitEvent(
            "the rejoin of " + NetnsCluster.configName(primary) + " to finish",
            LIMIT,
            hostBackAt,
            e ->
                "rejoin_finished".equals(e.path("event").asText())
                    && NetnsCluster.configName(primary).equals(e.path("node").asText()));
    return new RejoinDrill(faultAt, hostBackAt, streamingAt, finished);
  }

  /** Waits for a completed failover timeline after {@code since} and every route on {@code to}. */
  static void awaitFailover(NetnsCluster lab, Instant since, PgNode to) {
    lab.awaitEvent(
        "a completed failover",
        LIMIT,
        since,
        e -> NetnsCluster.isTimeline(e) && e.path("completed").asBoolean());
    FaultMatrix.awaitRoutesOn(lab, NetnsCluster.configName(to), LIMIT);
  }
}
