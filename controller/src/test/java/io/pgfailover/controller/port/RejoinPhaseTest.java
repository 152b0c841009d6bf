package io.pgfailover.controller.port;

import static io.pgfailover.controller.port.RejoinPhase.AWAITING_STREAM;
import static io.pgfailover.controller.port.RejoinPhase.CHECKING;
import static io.pgfailover.controller.port.RejoinPhase.CONFIGURING;
import static io.pgfailover.controller.port.RejoinPhase.DONE;
import static io.pgfailover.controller.port.RejoinPhase.FAILED;
import static io.pgfailover.controller.port.RejoinPhase.IDLE;
import static io.pgfailover.controller.port.RejoinPhase.RECLONING;
import static io.pgfailover.controller.port.RejoinPhase.REWINDING;
import static io.pgfailover.controller.port.RejoinPhase.STARTING;
import static io.pgfailover.controller.port.RejoinPhase.STOPPING;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The rejoin's transition table, pinned whole: every allowed move, and every other one refused. */
class RejoinPhaseTest {
  private static final Map<RejoinPhase, Set<RejoinPhase>> ALLOWED =
      Map.of(
          IDLE, EnumSet.of(CHECKING),
          CHECKING, EnumSet.of(STOPPING, FAILED),
          STOPPING, EnumSet.of(REWINDING, FAILED),
          REWINDING, EnumSet.of(RECLONING, CONFIGURING, FAILED),
          RECLONING, EnumSet.of(CONFIGURING, FAILED),
          CONFIGURING, EnumSet.of(STARTING, FAILED),
          STARTING, EnumSet.of(AWAITING_STREAM, FAILED),
          AWAITING_STREAM, EnumSet.of(DONE, FAILED),
          DONE, EnumSet.of(CHECKING),
          FAILED, EnumSet.of(CHECKING));

  @Test
  void everyPairIsAllowedExactlyWhenTheTableSaysSo() {
    int allowed = 0;
    for (RejoinPhase from : RejoinPhase.values()) {
      assertEquals(ALLOWED.get(from), from.next(), from.name());
      for (RejoinPhase to : RejoinPhase.values()) {
        if (ALLOWED.get(from).contains(to)) {
          assertEquals(to, from.to(to));
          allowed++;
        } else {
          IllegalStateException e = assertThrows(IllegalStateException.class, () -> from.to(to));
          assertTrue(
              e.getMessage().startsWith("illegal rejoin transition " + from + " -> " + to),
              e.getMessage());
        }
      }
    }
    assertEquals(18, allowed);
  }

  @Test
  void aRejoinRunsFromCheckingToAwaitingStreamAndOnlyThen() {
    assertEquals(
        EnumSet.of(
            CHECKING, STOPPING, REWINDING, RECLONING, CONFIGURING, STARTING, AWAITING_STREAM),
        EnumSet.copyOf(
            java.util.Arrays.stream(RejoinPhase.values()).filter(RejoinPhase::running).toList()));
  }

  @Test
  void aRunningRejoinCannotStartOverAndAFinishedOneCannotBeResumed() {
    assertThrows(IllegalStateException.class, () -> REWINDING.to(CHECKING));
    assertThrows(IllegalStateException.class, () -> DONE.to(STARTING));
    assertThrows(IllegalStateException.class, () -> FAILED.to(FAILED));
    assertThrows(IllegalStateException.class, () -> IDLE.to(FAILED));
  }
}
