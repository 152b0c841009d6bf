package io.pgfailover.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.NatConfig;
import io.pgfailover.controller.decide.Action;
import io.pgfailover.controller.port.NatEgress.Holder;
import io.pgfailover.controller.port.NatEgress.Peer;
import io.pgfailover.controller.port.NatEgress.PeerHealth;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The peer-NAT rules as a table: checks in a row, unknowns that count neither way, failback. */
class NatWatchTest {
  static final PeerHealth UP = new PeerHealth(Peer.HEALTHY, "running");
  static final PeerHealth DOWN = new PeerHealth(Peer.GONE, "stopped");
  static final PeerHealth UNKNOWN = new PeerHealth(Peer.UNKNOWN, "ec2 unreadable");

  static NatWatch watch(boolean failback) {
    return new NatWatch(
        new NatConfig(
            "i-0000000000000000a",
            "i-0000000000000000b",
            List.of("rtb-0000000000000000b"),
            Optional.empty(),
            3,
            failback));
  }

  static Optional<Holder> run(NatWatch w, PeerHealth h, Holder holder) {
    return w.next(h, holder).map(Action.PointEgressRoutes::to);
  }

  @Test
  void theRoutesMoveOnlyAfterThresholdFailuresInARow() {
    NatWatch w = watch(true);
    assertEquals(Optional.empty(), run(w, DOWN, Holder.PEER));
    assertEquals(Optional.empty(), run(w, DOWN, Holder.PEER));
    assertEquals(Optional.empty(), run(w, UP, Holder.PEER), "a success resets the count");
    assertEquals(Optional.empty(), run(w, DOWN, Holder.PEER));
    assertEquals(Optional.empty(), run(w, UNKNOWN, Holder.PEER), "unknown counts neither way");
    assertEquals(Optional.empty(), run(w, DOWN, Holder.PEER));
    assertEquals(Optional.of(Holder.SELF), run(w, DOWN, Holder.PEER));
  }

  @Test
  void nothingMovesOnceTheRoutesAreHereOrWhenTheyCannotBeRead() {
    NatWatch w = watch(true);
    for (int i = 0; i < 3; i++) {
      run(w, DOWN, Holder.PEER);
    }
    assertEquals(Optional.empty(), run(w, DOWN, Holder.SELF));
    assertEquals(Optional.empty(), run(w, DOWN, Holder.UNKNOWN));
    assertEquals(
        Optional.of(Holder.SELF), run(w, DOWN, Holder.MIXED), "a half-moved set is finished");
  }

  @Test
  void failbackWaitsForThresholdSuccessesAndOnlyWhenConfigured() {
    NatWatch w = watch(true);
    assertEquals(Optional.empty(), run(w, UP, Holder.SELF));
    assertEquals(Optional.empty(), run(w, UP, Holder.SELF));
    Optional<Action.PointEgressRoutes> back = w.next(UP, Holder.SELF);
    assertEquals(Holder.PEER, back.orElseThrow().to());
    assertEquals("i-0000000000000000b", back.get().instanceId());
    assertTrue(back.get().why().contains("healthy for 3 checks"), back.get().why());

    NatWatch noFailback = watch(false);
    for (int i = 0; i < 10; i++) {
      assertEquals(Optional.empty(), run(noFailback, UP, Holder.SELF));
    }
  }
}
