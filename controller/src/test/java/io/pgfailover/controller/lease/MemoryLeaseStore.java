package io.pgfailover.controller.lease;

import io.pgfailover.controller.port.LeaseStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The {@link LeaseStore} contract in memory (the DynamoDB adapter is tested on the emulator):
 * conditional writes, a token that only grows, and switches for an unreachable store or a write
 * whose answer is lost.
 */
final class MemoryLeaseStore implements LeaseStore {
  private Lease item;
  boolean unreachable;

  /**
   * The next write happens but its caller hears a timeout, as when the answer is lost on the way
   * back.
   */
  boolean loseNextAnswer;

  final List<String> writes = new ArrayList<>();

  @Override
  public synchronized Optional<Lease> read() {
    check();
    return Optional.ofNullable(item);
  }

  @Override
  public synchronized Optional<Lease> take(Optional<Lease> seen, String owner, Duration duration) {
    check();
    boolean matches =
        seen.isEmpty()
            ? item == null
            : item != null
                && item.renewal().equals(seen.get().renewal())
                && item.token() == seen.get().token();
    if (!matches) {
      return Optional.empty();
    }
    item =
        new Lease(
            owner,
            seen.map(l -> l.token() + 1).orElse(1L),
            UUID.randomUUID().toString(),
            false,
            duration);
    writes.add("take " + owner + " " + item.token());
    return answer(Optional.of(item));
  }

  @Override
  public synchronized Optional<Lease> renew(String owner, long token, Duration duration) {
    check();
    if (item == null || !item.owner().equals(owner) || item.token() != token || item.released()) {
      return Optional.empty();
    }
    item = new Lease(owner, token, UUID.randomUUID().toString(), false, duration);
    writes.add("renew " + owner + " " + token);
    return answer(Optional.of(item));
  }

  @Override
  public synchronized boolean release(String owner, long token) {
    check();
    if (item == null || !item.owner().equals(owner) || item.token() != token) {
      return false;
    }
    item = new Lease(owner, token, UUID.randomUUID().toString(), true, Duration.ZERO);
    writes.add("release " + owner + " " + token);
    return answer(true);
  }

  synchronized Optional<Lease> item() {
    return Optional.ofNullable(item);
  }

  private void check() {
    if (unreachable) {
      throw new Unavailable("dynamodb unreachable (test)", null);
    }
  }

  private <T> T answer(T value) {
    if (loseNextAnswer) {
      loseNextAnswer = false;
      throw new Unavailable("answer lost (test)", null);
    }
    return value;
  }
}
