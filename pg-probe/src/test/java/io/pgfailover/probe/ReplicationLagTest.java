package io.pgfailover.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class ReplicationLagTest {

  private static final Instant T = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void lagIsPrimaryCurrentMinusStandbyReplay() {
    assertEquals(
        OptionalLong.of(0x100),
        ReplicationLag.bytes(primary("0/3000100"), standby("0/3000100", "0/3000000")));
  }

  @Test
  void standbySeeminglyAheadClampsToZero() {
    // The primary was probed a moment before the standby, which has since replayed more.
    assertEquals(
        OptionalLong.of(0),
        ReplicationLag.bytes(primary("0/3000000"), standby("0/3000200", "0/3000200")));
  }

  @Test
  void noLagWithoutAReachablePrimaryAndStandby() {
    ProbeResult down =
        ProbeResult.unreachable("pg-a", T, Duration.ofSeconds(1), Reachability.TIMEOUT, "timeout");
    assertEquals(OptionalLong.empty(), ReplicationLag.bytes(down, standby("0/1", "0/1")));
    assertEquals(
        OptionalLong.empty(), ReplicationLag.bytes(standby("0/1", "0/1"), standby("0/1", "0/1")));
  }

  @Test
  void receiveReplayGapOfAStandbyAlone() {
    assertEquals(
        OptionalLong.of(0x1000),
        ReplicationLag.receiveReplayGap(standby("0/5001000", "0/5000000")));
    assertEquals(OptionalLong.empty(), ReplicationLag.receiveReplayGap(primary("0/1")));
  }

  private static ProbeResult primary(String current) {
    return new ProbeResult(
        "pg-a",
        T,
        Duration.ofMillis(3),
        Reachability.REACHABLE,
        Optional.empty(),
        Role.PRIMARY,
        OptionalLong.of(1),
        Optional.of(Lsn.parse(current)),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        Optional.of("15.8"),
        Optional.empty(),
        Optional.empty(),
        java.util.List.of());
  }

  private static ProbeResult standby(String receive, String replay) {
    return new ProbeResult(
        "pg-b",
        T,
        Duration.ofMillis(3),
        Reachability.REACHABLE,
        Optional.empty(),
        Role.STANDBY,
        OptionalLong.of(1),
        Optional.empty(),
        Optional.of(Lsn.parse(receive)),
        Optional.of(Lsn.parse(replay)),
        Optional.empty(),
        Optional.of("15.8"),
        Optional.empty(),
        Optional.empty(),
        java.util.List.of());
  }
}
