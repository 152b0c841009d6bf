package io.pgfailover.controller.port;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.port.NodeAgents.RejoinOutcome;
import io.pgfailover.controller.port.NodeAgents.RejoinRequest;
import io.pgfailover.probe.Role;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The fake keeps the port's contract, so that tests built on it hold against a real agent. */
class MemoryNodeAgentsTest {
  private static final RejoinRequest TO_B =
      new RejoinRequest("10.0.2.10:5432", 2, Optional.empty(), Optional.empty());

  @Test
  void oneRejoinAtATimeTheSameOneContinuesAndItEndsAsAStreamingStandby() {
    MemoryNodeAgents agents = new MemoryNodeAgents();
    agents.add("pg-a").role = Role.PRIMARY;
    assertEquals(RejoinOutcome.STARTED, agents.rejoin("pg-a", TO_B).outcome());
    assertEquals(RejoinOutcome.CONTINUES, agents.rejoin("pg-a", TO_B).outcome());
    assertEquals(
        RejoinOutcome.REFUSED,
        agents
            .rejoin(
                "pg-a", new RejoinRequest("10.0.2.10:5432", 3, Optional.empty(), Optional.empty()))
            .outcome());
    assertFalse(agents.stop("pg-a").ok(), "start and stop wait for the rejoin");
    assertThrows(IllegalStateException.class, () -> agents.advance("pg-a", RejoinPhase.DONE));
    agents.finish("pg-a");
    NodeAgents.Facts facts = agents.facts("pg-a").value().orElseThrow();
    assertEquals(RejoinPhase.DONE, facts.rejoin().state());
    assertEquals(Role.STANDBY, facts.role());
    assertEquals(2, facts.timeline().getAsLong());
  }

  @Test
  void startAndStopAreIdempotentAndAnAgentDownIsAFailureValue() {
    MemoryNodeAgents agents = new MemoryNodeAgents();
    agents.add("pg-b");
    assertTrue(agents.stop("pg-b").changed());
    assertFalse(agents.stop("pg-b").changed());
    assertTrue(agents.start("pg-b").changed());
    agents.host("pg-b").reachable = false;
    assertTrue(agents.facts("pg-b").failure().isPresent());
    assertEquals(RejoinOutcome.UNANSWERED, agents.rejoin("pg-b", TO_B).outcome());
    agents.refuseNext("pg-b", "never rewind the newest timeline");
    agents.host("pg-b").reachable = true;
    assertEquals(RejoinOutcome.REFUSED, agents.rejoin("pg-b", TO_B).outcome());
    assertEquals(RejoinPhase.IDLE, agents.rejoinState("pg-b").value().orElseThrow().state());
    assertTrue(agents.facts("pg-c").failure().orElseThrow().contains("no agent configured"));
  }
}
