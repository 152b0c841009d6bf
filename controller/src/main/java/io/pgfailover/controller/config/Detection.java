package io.pgfailover.controller.config;

import java.time.Duration;
import java.util.Locale;

/**
 * How soon the controller confirms a failed primary, from the probe policy and the witness window:
 * the one statement of it that {@code config check}, the README and the docs of {@link ProbePolicy}
 * share.
 *
 * <ul>
 *   <li>A crashed primary (its host refuses connections) fails every probe at once; the threshold
 *       is reached on the {@code failureThreshold}-th failed probe, {@code interval ×
 *       (failureThreshold − 1)} after the first, which comes up to one interval after the crash.
 *   <li>A primary that stops answering (frozen, cut off) fails each probe only at its {@code
 *       timeout}. Without node agents, while a standby was streaming from it, the witness rule
 *       waits until that standby too has heard nothing for {@code witnessWindow}.
 *   <li>With agents, a standby's host that cannot reach it either confirms the failure once the
 *       controller has seen it last {@code interval × (failureThreshold − 2)} from the start of its
 *       first failed probe to the end of its last: a crash takes the same {@code failureThreshold −
 *       1} refused probes as before, and a probe that waited out its timeout counts for the time it
 *       waited, so an unresponsive primary is confirmed after {@code timeout} plus as many
 *       intervals as that leaves short. Soonest, that is; the standby's agent must have failed a
 *       probe by then too ({@code witness.timeout} after its next one, every {@code
 *       witness.interval}).
 * </ul>
 *
 * @param crashFrom a crash just before a probe
 * @param crashTo a crash just after one
 * @param unresponsiveFrom the soonest an unresponsive primary is confirmed
 */
public record Detection(Duration crashFrom, Duration crashTo, Duration unresponsiveFrom) {

  public static Detection of(ControllerConfig config) {
    ProbePolicy probe = config.probe();
    boolean agents = config.nodes().stream().anyMatch(n -> n.agent().isPresent());
    if (agents) {
      Duration needed = probe.interval().multipliedBy(Math.max(0, probe.failureThreshold() - 2L));
      Duration unresponsive = probe.timeout();
      while (unresponsive.compareTo(needed) < 0) {
        unresponsive = unresponsive.plus(probe.interval());
      }
      return new Detection(needed, needed.plus(probe.interval()), unresponsive);
    }
    Duration crashFrom = probe.interval().multipliedBy(probe.failureThreshold() - 1L);
    Duration timedOut = crashFrom.plus(probe.timeout());
    return new Detection(
        crashFrom,
        probe.interval().multipliedBy(probe.failureThreshold()),
        timedOut.compareTo(config.failover().witnessWindow()) >= 0
            ? timedOut
            : config.failover().witnessWindow());
  }

  /** As {@code config check} prints it. */
  public String describe() {
    return String.format(
        Locale.ROOT,
        "a crashed primary is confirmed %d–%d ms after it goes, one that stops answering after at"
            + " least %d ms",
        crashFrom.toMillis(),
        crashTo.toMillis(),
        unresponsiveFrom.toMillis());
  }
}
