package io.pgfailover.controller.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two holders in one JVM (file locks belong to the process, so the second is refused by the JVM's
 * own bookkeeping); OneActorIT takes it from two processes.
 */
class ActorLockTest {
  @TempDir Path dir;

  @Test
  void aSecondActorIsRefusedWithWhoHoldsItUntilTheFirstLetsGo() throws Exception {
    Path file = dir.resolve("state/events.jsonl.lock");
    try (ActorLock first = ActorLock.acquire(file, "run")) {
      ActorLock.HeldException e =
          assertThrows(ActorLock.HeldException.class, () -> ActorLock.acquire(file, "failover"));
      assertTrue(
          e.getMessage()
              .contains(file + " is locked by pid " + ProcessHandle.current().pid() + " (run)"),
          e.getMessage());
      assertTrue(e.getMessage().contains("systemctl status pgfailover"), e.getMessage());
      assertEquals(
          PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(file));
    }
    try (ActorLock again = ActorLock.acquire(file, "failover")) {
      assertTrue(Files.readString(file).contains("(failover)"));
    }
  }
}
