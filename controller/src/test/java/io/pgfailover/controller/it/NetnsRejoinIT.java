package io.pgfailover.controller.it;

import static io.pgfailover.controller.it.NetnsLabSession.distinct;
import static io.pgfailover.controller.it.NetnsLabSession.texts;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.cli.ExitCodes;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Back to two nodes after every failover (issue 12), on the netns lab with a node agent on each
 * PostgreSQL host and the controller's {@code rejoin: automatic}: each test runs one scenario of
 * {@code io.pgfailover.testsupport.lab.RejoinMatrix} (one fresh lab pair each) and asserts on the
 * facts it prints. The agents' token checks are AgentIT's. Needs root and network namespaces;
 * skipped otherwise.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class NetnsRejoinIT {
  private static NetnsLabSession lab;

  @BeforeAll
  static void labUp() throws Exception {
    lab = NetnsLabSession.open();
  }

  @AfterAll
  static void labDown() throws Exception {
    if (lab != null) {
      lab.close();
    }
  }

  /**
   * The primary's host crashes after it committed rows alone (cut off, async); it comes back and is
   * rewound, the rows gone. Then: a rejoin of the new primary is refused; with the standby's agent
   * down the next host crash still fails over, and the old primary, back without its agent, is
   * alarmed and left alone.
   */
  @Test
  void hostCrash_oldPrimaryRewoundAndStreaming_refusalsAndAgentDown() throws Exception {
    JsonNode f = lab.scenario("RejoinMatrix", "crash", 600);
    JsonNode rejoin = f.path("rejoin");
    assertEquals("rewind", rejoin.path("method").asText(), f.toString());
    assertTrue(rejoin.path("rejoined_ms").asLong() > 0, f.toString());
    assertEquals(110, f.path("diverged_rows_on_a_before").asLong(), f.toString());
    assertEquals("t", f.path("a_in_recovery").asText(), "pg-a is a standby again: " + f);
    assertEquals(10, f.path("rows_on_a_after").asLong(), "pg-a's diverged rows are gone: " + f);
    assertEquals(10, f.path("rows_on_b").asLong(), f.toString());

    assertEquals(ExitCodes.REFUSED, f.path("rejoin_primary_exit").asInt(), f.toString());
    assertTrue(
        f.path("rejoin_primary_output")
            .asText()
            .contains("pg-b is the primary on the newest timeline: it is what others rejoin"),
        f.toString());

    assertTrue(f.path("failover_without_agents").asBoolean(), f.toString());
    assertTrue(
        f.path("agent_unreachable_alarm").asText().contains("pg-b"),
        "the alarm names the node whose agent does not answer: " + f);
    assertEquals(0, f.path("rejoins_started_without_agent").asInt(), f.toString());
    assertEquals("TWO_PRIMARIES", f.path("status_reason").asText(), f.toString());
    assertEquals("primary", f.path("b_role").asText(), "pg-b left as it came back: " + f);
    assertEquals(List.of("pg-a"), distinct(f.path("routes")), f.toString());
    assertEquals(List.of("pg-a"), texts(f.path("vip_answered_by")), f.toString());
  }

  /** Ten switchovers under load, sync mode: nothing acknowledged lost, two nodes after each. */
  @Test
  void tenSwitchoverRoundTripsUnderLoad_nothingLostTwoNodesStreamingSyncRestored()
      throws Exception {
    JsonNode f = lab.scenario("RejoinMatrix", "switchovers", 900);
    JsonNode trips = f.path("trips");
    assertEquals(10, trips.size(), f.toString());
    for (JsonNode t : trips) {
      assertEquals(0, t.path("exit").asInt(), t.toString());
      assertTrue(t.path("streaming_ms").asLong() > 0, t.toString());
      String standby = t.path("to").asText().equals("pg-a") ? "pg-b" : "pg-a";
      assertEquals(
          "\"" + standby + "\"", t.path("synchronous_standby_names").asText(), t.toString());
    }
    assertTrue(f.path("acked_writes").asLong() > 200, f.toString());
    assertEquals(0, f.path("lost_acked_writes").asLong(), f.toString());
  }

  /** Without wal_log_hints or checksums pg_rewind refuses; {@code rejoin.reclone} copies anew. */
  @Test
  void rewindImpossible_recloned_streams() throws Exception {
    JsonNode f = lab.scenario("RejoinMatrix", "reclone", 600);
    assertEquals("reclone", f.path("rejoin").path("method").asText(), f.toString());
    assertTrue(f.path("rejoin").path("rejoined_ms").asLong() > 0, f.toString());
  }
}
