package io.pgfailover.controller.port;

import java.time.Duration;
import java.util.Optional;

/**
 * The controller pair's lease: one item per cluster in a shared store (DynamoDB), changed only by
 * atomic conditional writes. Implemented over aws-adapter.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li><b>Atomic:</b> each write is one conditional write; it either happens entirely or not at
 *       all.
 *   <li><b>Token only grows:</b> a take writes {@code token + 1} of the item it replaces; nothing
 *       deletes the item, so the token never restarts.
 *   <li><b>Renewal id:</b> every write sets a fresh {@code renewal} id. A contender watches it
 *       unchanged for a lease duration by its own clock; no clock is compared across hosts.
 *   <li><b>Values versus exceptions:</b> a lost condition (someone else wrote) is a value: empty or
 *       false. An unreachable store, a missing table or a denied permission throws {@link
 *       Unavailable}; the outcome of a write is then unknown, and the caller must act as if it did
 *       not hold the lease.
 *   <li><b>Idempotent:</b> {@link #read} is; a repeated {@link #renew} by the holder is harmless. A
 *       repeated {@link #take} fails its condition (the item changed), which is the point.
 *   <li><b>Bounded:</b> each call returns or throws within the configured call timeout.
 * </ul>
 */
public interface LeaseStore {
  /** The lease item as stored. */
  record Lease(String owner, long token, String renewal, boolean released, Duration duration) {}

  /** A strongly consistent read; empty when no controller ever took the lease. */
  Optional<Lease> read();

  /**
   * Take the lease if the item is still exactly {@code seen} (still absent when {@code seen} is
   * empty): the new item has {@code owner}, {@code seen.token + 1} (or 1) and a new renewal id.
   * Empty if the item changed.
   */
  Optional<Lease> take(Optional<Lease> seen, String owner, Duration duration);

  /** New renewal id, only if {@code owner} still holds {@code token} and has not released it. */
  Optional<Lease> renew(String owner, long token, Duration duration);

  /** Mark the lease released (a clean shutdown), keeping the token. False when it was not ours. */
  boolean release(String owner, long token);

  /**
   * The store could not answer: unreachable, throttled past the call timeout, missing table,
   * denied.
   */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
