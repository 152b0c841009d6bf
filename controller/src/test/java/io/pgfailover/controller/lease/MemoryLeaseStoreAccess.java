package io.pgfailover.controller.lease;

import io.pgfailover.controller.port.LeaseStore;

/** Hands the in-memory lease store to tests in other packages. */
public final class MemoryLeaseStoreAccess {
  private final MemoryLeaseStore store = new MemoryLeaseStore();

  public LeaseStore store() {
    return store;
  }

  public void unreachable(boolean down) {
    store.unreachable = down;
  }
}
