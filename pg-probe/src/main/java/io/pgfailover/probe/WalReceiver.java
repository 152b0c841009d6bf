package io.pgfailover.probe;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A standby's WAL receiver, from {@code pg_stat_wal_receiver}. {@code sinceLastMessage} is computed
 * by the standby itself ({@code clock_timestamp() - last_msg_receipt_time}), so clock skew between
 * hosts does not enter; it is empty before the first message. On an idle primary a message arrives
 * at least every {@code wal_receiver_timeout / 2} (the receiver asks for a keepalive), more often
 * with the write check enabled.
 */
public record WalReceiver(
    String status,
    boolean streaming,
    String senderHost,
    int senderPort,
    Optional<Duration> sinceLastMessage) {

  public WalReceiver {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(senderHost, "senderHost");
    Objects.requireNonNull(sinceLastMessage, "sinceLastMessage");
  }
}
