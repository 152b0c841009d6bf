package io.pgfailover.controller.config;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * How soon the controller confirms a failed primary, from the probe policy and the witness window:
 * the one statement of it that {@code config check}, the README and the docs of {@link ProbePolicy}
 * share.
 *
 * <ul>
 *   <li>A crashed primary (its host refuses connections) fails every probe at once; the threshold
 *       is reached on the {@code failureThreshold}-th failed probe, {@code interval ×
 *       (failureThreshold − 1)} after the first, which comes up to a quarter interval after the
 *       crash (the leader probes an answering primary that often between loops: {@link
 *       ProbePolicy#watchEvery}).
 *   <li>A primary that stops answering (frozen, cut off) fails each probe only at its {@code
 *       timeout}. Without node agents, while a standby was streaming from it, the witness rule
 *       waits until that standby too has heard nothing for {@code witnessWindow}. With agents, a
 *       standby's host that cannot reach it either counts as one more failed probe, and the witness
 *       window no longer applies: {@code interval × (failureThreshold − 2) + timeout}.
 * </ul>
 *
 * @param crashFrom a crash just before a probe
 * @param crashTo a crash just after one
 * @param unresponsiveFrom the soonest an unresponsive primary is confirmed
 */
public record Detection(Duration crashFrom, Duration crashTo, Duration unresponsiveFrom) {

  public static Detection of(ControllerConfig config) {
    ProbePolicy probe = config.probe();
    Duration crashFrom = probe.interval().multipliedBy(probe.failureThreshold() - 1L);
    boolean agents = config.nodes().stream().anyMatch(n -> n.agent().isPresent());
    if (agents) {
      Duration corroborated =
          probe.interval().multipliedBy(Math.max(0, probe.failureThreshold() - 2L));
      return new Detection(
          corroborated, corroborated.plus(probe.watchEvery()), corroborated.plus(probe.timeout()));
    }
    Duration timedOut = crashFrom.plus(probe.timeout());
    return new Detection(
        crashFrom,
        crashFrom.plus(probe.watchEvery()),
        timedOut.compareTo(config.failover().witnessWindow()) >= 0
            ? timedOut
            : config.failover().witnessWindow());
  }

  /**
   * What {@code config check} and {@code run} warn of where one failed probe and a standby host's
   * agreement confirm a silent primary ({@code failureThreshold} 2 or less, with node agents): on a
   * link that loses packets the controller's probe and the standby host's, which both cross the
   * primary's link, time out together often enough to fail over a healthy primary (the
   * flapping-link test with the drills' {@code fast} profile; the README has the figures).
   */
  public static Optional<String> caution(ControllerConfig config) {
    ProbePolicy probe = config.probe();
    boolean agents = config.nodes().stream().anyMatch(n -> n.agent().isPresent());
    if (!agents || probe.failureThreshold() > 2) {
      return Optional.empty();
    }
    return Optional.of(
        String.format(
            Locale.ROOT,
            "caution: probe.failureThreshold %d with node agents confirms a primary that stops"
                + " answering on one failed probe and a standby host's agreement; on a link that"
                + " loses packets both time out together often enough to fail over a healthy"
                + " primary (README: Detection speed versus false alarms); probe.failureThreshold:"
                + " 3 needs two failed probes",
            probe.failureThreshold()));
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
