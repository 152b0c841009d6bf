package io.pgfailover.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgfailover.controller.CapturedLog;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.events.EventLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a restarted controller remembers: the newest timeline, from the state file beside the event
 * history (or from the history itself after an upgrade), and what its start found unreadable.
 */
class ControlLoopStateTest {
  @TempDir Path dir;

  @Test
  void aRestartAfterTheHistoryRotatedAwayStillRefusesTheStalePrimary() throws Exception {
    ScriptedCluster cluster = new ScriptedCluster(dir, "");
    Path history = cluster.config.eventLog().path();
    // The failover happened: pg-b is the primary on timeline 2, the routes are on it.
    cluster.nodes.put("pg-b", ScriptedCluster.primary("pg-b", 2));
    cluster.routeTarget = ScriptedCluster.ENI_B;
    try (ControlLoop before = cluster.loop()) {
      assertEquals(Reason.HEALTHY, before.runOnce().decision().reason());
    }
    // Weeks later every file that mentioned timeline 2 has rotated away.
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        if (f.getFileName().toString().startsWith(history.getFileName() + ".")
            && !f.equals(cluster.config.eventLog().stateFile())) {
          Files.delete(f);
        }
      }
    }
    Files.delete(history);

    // The controller restarts while pg-b is down and the old primary pg-a is back, writable, on
    // timeline 1.
    cluster.nodes.clear();
    cluster.nodes.put("pg-a", ScriptedCluster.primary("pg-a", 1));
    try (ControlLoop restarted = cluster.loop()) {
      assertEquals(2, restarted.history().highestPrimaryTimeline());
      assertEquals(Reason.STALE_PRIMARY, restarted.peek().decision().reason());
    }
  }

  @Test
  void theStateFileIsReplacedAtomicallyOwnerOnlyAndOnlyWhenTheTimelineChanges() throws Exception {
    ScriptedCluster cluster = new ScriptedCluster(dir, "");
    Path state = cluster.config.eventLog().stateFile();
    cluster.nodes.put("pg-a", ScriptedCluster.primary("pg-a", 1));
    try (ControlLoop loop = cluster.loop()) {
      loop.runOnce();
      JsonNode first = new ObjectMapper().readTree(state.toFile());
      assertEquals(1, first.path("highest_timeline").asLong());
      assertEquals("pg-a", first.path("last_primary").asText());
      assertEquals("c", first.path("cluster").asText());
      assertEquals(
          PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(state));
      long written = Files.getLastModifiedTime(state).toMillis();
      String text = Files.readString(state);

      loop.runOnce();
      assertEquals(text, Files.readString(state), "unchanged timeline: not rewritten");
      assertEquals(written, Files.getLastModifiedTime(state).toMillis());

      cluster.nodes.put("pg-a", ScriptedCluster.primary("pg-a", 3));
      loop.runOnce();
      assertEquals(
          3, new ObjectMapper().readTree(state.toFile()).path("highest_timeline").asLong());
    }
    try (var files = Files.list(dir)) {
      assertFalse(
          files.anyMatch(f -> f.getFileName().toString().endsWith(".tmp")),
          "no temporary file left behind");
    }
  }

  @Test
  void withoutAStateFileTheTimelineIsReadBackFromTheEventHistory() throws Exception {
    ScriptedCluster cluster = new ScriptedCluster(dir, "");
    // An upgrade: the older version kept the timeline only in its decision events.
    new EventLog(cluster.config.eventLog(), Clock.systemUTC(), "c")
        .append(
            "decision", Map.of("reason", "HEALTHY", "highest_timeline", 2, "last_primary", "pg-b"));
    cluster.nodes.put("pg-a", ScriptedCluster.primary("pg-a", 1));
    try (ControlLoop loop = cluster.loop()) {
      assertEquals(2, loop.history().highestPrimaryTimeline());
      assertEquals(Reason.STALE_PRIMARY, loop.peek().decision().reason());
    }
  }

  @Test
  void theDaemonsStartReportsWhatItCouldNotReadAsALogLineAndAnEvent() throws Exception {
    ScriptedCluster cluster = new ScriptedCluster(dir, "");
    Path history = cluster.config.eventLog().path();
    EventLog events = new EventLog(cluster.config.eventLog(), Clock.systemUTC(), "c");
    events.append("decision", Map.of("reason", "HEALTHY", "highest_timeline", 1));
    Files.writeString(
        history,
        "{\"torn\n" + "x".repeat(EventLog.MAX_LINE_BYTES + 10) + "\n",
        java.nio.file.StandardOpenOption.APPEND);
    Files.writeString(cluster.config.eventLog().stateFile(), "{not json");

    CapturedLog log = CapturedLog.start();
    try (ControlLoop loop = cluster.loop()) {
      loop.run(() -> false);
    } finally {
      log.stop();
    }
    List<JsonNode> tail = events.tail(10);
    JsonNode skipped =
        tail.stream()
            .filter(e -> e.path("event").asText().equals("event_log_skipped"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no event_log_skipped event in " + tail));
    assertEquals(2, skipped.path("lines").asInt(), skipped.toString());
    assertTrue(
        tail.stream().anyMatch(e -> e.path("event").asText().equals("state_file_unreadable")),
        tail.toString());
    assertTrue(
        log.text().contains("event=event_log_skipped file=" + history + " lines=2"), log.text());
    assertTrue(log.text().contains("event=state_file_unreadable"), log.text());
    JsonNode started =
        tail.stream()
            .filter(e -> e.path("event").asText().equals("controller_started"))
            .findFirst()
            .orElseThrow();
    assertEquals("event_log", started.path("timeline_from").asText());
    assertEquals(1, started.path("highest_timeline").asLong());
  }
}
