package io.pgfailover.controller.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * When History dates a standby's last WAL message: from the end of the probe that read it, kept
 * within the loop's observing, never from a later end of observing (which a slow agent's answer can
 * put a second after the probe).
 */
class HistoryTest {
  static final Instant AT = Instant.parse("2026-01-01T00:00:10Z");
  static final Instant UNTIL = AT.plusSeconds(1);

  static History.Heard heardBetween(Optional<Instant> readFrom, Optional<Instant> readBy) {
    NodeObservation standby =
        DeciderTest.standby(
            "pg-b",
            1,
            1000,
            Optional.of(
                new Witness(true, "10.0.1.10", 5432, Duration.ofMillis(100), readFrom, readBy)));
    Snapshot s = new Snapshot(AT, UNTIL, Map.of("pg-b", standby), List.of(), Map.of());
    return History.empty().next(s).lastHeard().get("pg-b");
  }

  static Instant heard(Optional<Instant> readBy) {
    return heardBetween(Optional.empty(), readBy).at();
  }

  @Test
  void aMessageIsDatedFromTheEndOfTheProbeThatReadItAndAtLeastFromItsStart() {
    History.Heard h = heardBetween(Optional.of(AT.plusMillis(20)), Optional.of(AT.plusMillis(50)));
    assertEquals(AT.plusMillis(50 - 100), h.at(), "the latest it can have come");
    assertEquals(AT.plusMillis(20 - 100), h.atLeast(), "the soonest");
  }

  @Test
  void withoutItsProbesEndFromTheEndOfObserving() {
    assertEquals(UNTIL.minusMillis(100), heard(Optional.empty()));
  }

  @Test
  void aProbeEndOutsideTheObservingIsKeptWithinIt() {
    assertEquals(UNTIL.minusMillis(100), heard(Optional.of(UNTIL.plusSeconds(5))));
    assertEquals(AT.minusMillis(100), heard(Optional.of(AT.minusSeconds(5))));
  }

  @Test
  void anAgentsAgesGrowByTheTimeSinceItAnswered() {
    var u =
        new io.pgfailover.controller.port.NodeAgents.Upstream(
            "10.0.1.10:5432",
            OptionalLong.of(300),
            Optional.of(io.pgfailover.probe.Role.PRIMARY),
            null, // from an agent that predates it: as the last reach
            0,
            Optional.empty(),
            OptionalLong.empty());
    var older = u.olderBy(700);
    assertEquals(OptionalLong.of(1000), older.sinceReachedMs());
    assertEquals(OptionalLong.of(1000), older.sinceAnsweredMs());
    assertEquals(OptionalLong.empty(), older.sinceProbedMs(), "never probed stays never");
  }
}
