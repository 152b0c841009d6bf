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
 *       timeout}; and while a standby was streaming from it, the witness rule waits until that
 *       standby too has heard nothing for {@code witnessWindow}.
 * </ul>
 *
 * @param crashFrom a crash just before a probe
 * @param crashTo a crash just after one
 * @param unresponsiveFrom the soonest an unresponsive primary is confirmed
 */
public record Detection(Duration crashFrom, Duration crashTo, Duration unresponsiveFrom) {

  public static Detection of(ProbePolicy probe, FailoverPolicy failover) {
    Duration crashFrom = probe.interval().multipliedBy(probe.failureThreshold() - 1L);
    Duration timedOut = crashFrom.plus(probe.timeout());
    return new Detection(
        crashFrom,
        probe.interval().multipliedBy(probe.failureThreshold()),
        timedOut.compareTo(failover.witnessWindow()) >= 0 ? timedOut : failover.witnessWindow());
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
