package io.pgfailover.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.port.MemoryNodeAgents;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.probe.Role;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop with node agents (the in-memory fake): an old primary back beside the new one is asked
 * to rejoin once, its progress goes into the controller's history once per step, and an operator's
 * rejoin goes through the same guards.
 */
class RejoinLoopTest {
  @TempDir Path dir;

  static final String AGENT =
      ", agent: {url: \"http://10.0.0.1:8009\", tokenFile: /etc/pgfailover/agent-token}";

  ScriptedCluster afterFailover() throws Exception {
    ScriptedCluster c = new ScriptedCluster(dir, "", AGENT);
    c.nodes.put("pg-b", ScriptedCluster.primary("pg-b", 2));
    c.nodes.put("pg-a", ScriptedCluster.primary("pg-a", 1)); // the old primary, back
    c.routeTarget = ScriptedCluster.ENI_B;
    return c;
  }

  @Test
  void anOldPrimaryBackIsRejoinedOnceAndItsProgressRecordedOnce() throws Exception {
    ScriptedCluster c = afterFailover();
    MemoryNodeAgents agents = new MemoryNodeAgents();
    agents.add("pg-a").role = Role.PRIMARY;
    agents.add("pg-b").role = Role.PRIMARY;
    try (ControlLoop loop = c.loop(agents)) {
      LoopReport first = loop.runOnce();
      assertEquals(Reason.TWO_PRIMARIES, first.decision().reason(), first.decision().message());
      assertTrue(first.ok(), first.steps().toString());
      assertEquals(
          List.of("rejoin pg-a h:5433 2"),
          agents.calls().stream().filter(x -> x.startsWith("rejoin")).toList());

      // The agent works: the loop follows, it does not ask again.
      agents.advance("pg-a", RejoinPhase.STOPPING);
      c.nodes.remove("pg-a"); // stopped: it no longer answers SQL
      for (int i = 0; i < 3; i++) {
        c.clock.advance(Duration.ofSeconds(1));
        loop.runOnce();
      }
      assertEquals(1, agents.calls().stream().filter(x -> x.startsWith("rejoin")).count());
      agents.finish("pg-a");
      c.nodes.put("pg-a", ScriptedCluster.standby("pg-a", 2));
      c.clock.advance(Duration.ofSeconds(1));
      loop.runOnce();
      c.clock.advance(Duration.ofSeconds(1));
      loop.runOnce();
    }
    List<String> story =
        c.events().stream()
            .map(e -> e.path("event").asText())
            .filter(e -> e.startsWith("rejoin") || e.equals("rewound") || e.equals("recloned"))
            .toList();
    assertEquals(List.of("rejoin_started", "rewound", "rejoin_finished"), story);
  }

  @Test
  void anOperatorsRejoinOfThePrimaryIsRefused() throws Exception {
    ScriptedCluster c = afterFailover();
    MemoryNodeAgents agents = new MemoryNodeAgents();
    agents.add("pg-a");
    agents.add("pg-b");
    try (ControlLoop loop = c.loop(agents)) {
      loop.submit(new Request.Rejoin("pg-b"));
      LoopReport r = loop.runOnce();
      assertEquals(Reason.REQUEST_REFUSED, r.decision().reason());
      assertTrue(r.decision().message().contains("is the primary on the newest timeline"));
      assertTrue(agents.calls().stream().noneMatch(x -> x.startsWith("rejoin pg-b")));
    }
  }
}
