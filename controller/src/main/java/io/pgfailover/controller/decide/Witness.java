package io.pgfailover.controller.decide;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * A standby's view of its upstream, from {@code pg_stat_wal_receiver}.
 *
 * @param sinceLastMessage how long ago the standby last heard from its upstream, measured on the
 *     standby
 * @param readFrom when the probe that read it began, on the controller's clock: the standby
 *     measured {@code sinceLastMessage} no sooner than this. Empty: as {@code readBy}
 * @param readBy when that probe ended: the standby measured it no later than this. Empty: at the
 *     end of observing ({@link History.Heard}); a loop whose agents answer late ends observing well
 *     after its probes did, and a message reckoned from there would seem to have come up to that
 *     much later than it did
 */
public record Witness(
    boolean streaming,
    String senderHost,
    int senderPort,
    Duration sinceLastMessage,
    Optional<Instant> readFrom,
    Optional<Instant> readBy) {

  /** Read at the end of observing. */
  public Witness(boolean streaming, String senderHost, int senderPort, Duration sinceLastMessage) {
    this(streaming, senderHost, senderPort, sinceLastMessage, Optional.empty(), Optional.empty());
  }
}
