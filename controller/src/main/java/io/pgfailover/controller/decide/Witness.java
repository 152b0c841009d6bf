package io.pgfailover.controller.decide;

import java.time.Duration;

/**
 * A standby's view of its upstream, from {@code pg_stat_wal_receiver}.
 *
 * @param sinceLastMessage how long ago the standby last heard from its upstream, measured on the
 *     standby
 */
public record Witness(
    boolean streaming, String senderHost, int senderPort, Duration sinceLastMessage) {}
