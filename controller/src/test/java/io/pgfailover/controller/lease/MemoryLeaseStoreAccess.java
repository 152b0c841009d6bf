package io.pgfailover.controller.lease;

import io.pgfailover.controller.config.LeaseConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.port.LeaseStore;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** Hands the in-memory lease store to tests in other packages. */
public final class MemoryLeaseStoreAccess {
  /** The tests' lease: duration 10 s, renewal every 2 s, call timeout 1 s, safety margin 2 s. */
  public static final LeaseConfig CONFIG =
      new LeaseConfig(
          "t",
          "ctl",
          Duration.ofSeconds(10),
          Duration.ofSeconds(2),
          Duration.ofSeconds(1),
          Duration.ofSeconds(2));

  private final MemoryLeaseStore store = new MemoryLeaseStore();

  public LeaseStore store() {
    return store;
  }

  public void unreachable(boolean down) {
    store.unreachable = down;
  }

  /**
   * One controller of a pair on this store, counting on {@code nanos}, a clock the test moves (a
   * wait for a takeover moves it too).
   */
  public Leadership controller(AtomicLong nanos, EventLog events) {
    return Leadership.of(CONFIG, store, nanos::get, nanos::addAndGet, events);
  }
}
