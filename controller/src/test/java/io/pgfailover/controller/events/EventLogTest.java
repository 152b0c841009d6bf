package io.pgfailover.controller.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.config.EventLogConfig;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventLogTest {
  private static final Set<PosixFilePermission> OWNER_ONLY =
      PosixFilePermissions.fromString("rw-------");

  @TempDir Path dir;

  @Test
  void afterAFullDiskTheNextEventStartsOnALineOfItsOwn() throws Exception {
    Path small = Files.createDirectories(dir.resolve("small"));
    String mounted = run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", small.toString());
    assumeTrue(mounted.isEmpty(), "cannot mount a 64 KiB tmpfs (needs root): " + mounted);
    try {
      Path file = small.resolve("events.jsonl");
      // Freed once the disk is full, as when an operator makes room.
      Files.write(small.resolve("filler"), new byte[16 * 1024]);
      EventLog events = new EventLog(file, Clock.systemUTC(), "c");
      for (int i = 0; i < 10_000 && !endsMidLine(file); i++) {
        events.append("alarm", Map.of("kind", "STANDING", "n", i, "pad", "x".repeat(i % 97)));
      }
      assertTrue(endsMidLine(file), "the disk filled up inside a line");
      events.append("alarm", Map.of("kind", "STILL_FULL"));

      Files.delete(small.resolve("filler"));
      events.append("after_space_came_back", Map.of());

      List<JsonNode> tail = EventLog.tail(file, 3);
      assertEquals(
          "after_space_came_back",
          tail.get(tail.size() - 1).path("event").asText(),
          tail.toString());
      // Only the fragment of the write that hit the full disk is lost.
      List<String> unreadable = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        if (!line.isEmpty() && !parses(line)) {
          unreadable.add(line);
        }
      }
      assertEquals(1, unreadable.size(), unreadable.toString());
    } finally {
      assertEquals("", run("umount", small.toString()));
    }
  }

  @Test
  void aLineTornByACrashIsNotGluedOntoTheNextEvent() throws Exception {
    Path file = dir.resolve("events.jsonl");
    Files.writeString(
        file, "{\"ts\":\"2026-01-01T00:00:00Z\",\"event\":\"decision\"}\n{\"ts\":\"20");
    new EventLog(file, Clock.systemUTC(), "c").append("controller_started", Map.of());
    List<JsonNode> tail = EventLog.tail(file, 5);
    assertEquals(
        List.of("decision", "controller_started"),
        tail.stream().map(e -> e.path("event").asText()).toList());
  }

  @Test
  void itRotatesBySizeKeepingTheConfiguredNumberOfFilesAndReadsAcrossThem() throws Exception {
    EventLogConfig config = new EventLogConfig(dir.resolve("events.jsonl"), 4096, 2);
    EventLog events = new EventLog(config, Clock.systemUTC(), "c");
    for (int i = 0; i < 200; i++) {
      events.append("alarm", Map.of("n", i, "pad", "x".repeat(100)));
    }
    for (Path f : List.of(config.path(), config.rotated(1), config.rotated(2))) {
      assertTrue(Files.size(f) <= 4096, f + " is " + Files.size(f) + " bytes");
      assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(f), f.toString());
    }
    assertTrue(Files.size(config.rotated(1)) > 3800, "filled before it rotated");
    assertFalse(Files.exists(config.rotated(3)), "only 2 rotated files are kept");

    List<JsonNode> tail = EventLog.tail(config.path(), 1000);
    List<Integer> numbers = tail.stream().map(e -> e.path("n").asInt()).toList();
    assertEquals(199, numbers.get(numbers.size() - 1));
    for (int i = 1; i < numbers.size(); i++) {
      assertEquals(numbers.get(i - 1) + 1, numbers.get(i), "in order across files: " + numbers);
    }
    assertTrue(numbers.size() > 40, "three files' worth: " + numbers.size());
  }

  @Test
  void theHistoryIsOwnerOnlyAndAnOlderReadableFileIsFixed() throws Exception {
    Path fresh = dir.resolve("fresh.jsonl");
    new EventLog(fresh, Clock.systemUTC(), "c").append("controller_started", Map.of());
    assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(fresh));

    Path older = Files.writeString(dir.resolve("older.jsonl"), "");
    Files.setPosixFilePermissions(older, PosixFilePermissions.fromString("rw-r--r--"));
    new EventLog(older, Clock.systemUTC(), "c").append("controller_started", Map.of());
    assertEquals(OWNER_ONLY, Files.getPosixFilePermissions(older));
  }

  @Test
  void actionEventsAreForcedToDiskBeforeTheActionRuns() {
    for (String e : List.of("action_started", "action_finished", "action_refused")) {
      assertTrue(EventLog.durable(e), e);
    }
    assertTrue(EventLog.durable("failover_timeline"));
    for (String e : List.of("decision", "alarm", "alarm_cleared", "controller_started")) {
      assertFalse(EventLog.durable(e), e);
    }
  }

  @Test
  void linesThatAreNotEventsAreSkippedAndCounted() throws Exception {
    Path file = dir.resolve("events.jsonl");
    EventLog events = new EventLog(file, Clock.systemUTC(), "c");
    events.append("first", Map.of());
    Files.write(
        file,
        ("x".repeat(1024 * 1024) + "\nnot json\n[1,2]\n").getBytes(StandardCharsets.UTF_8),
        StandardOpenOption.APPEND);
    events.append("second", Map.of());
    Files.writeString(file, "{\"torn", StandardOpenOption.APPEND);

    EventLog.Tail tail = EventLog.readTail(file, 10);
    assertEquals(
        List.of("first", "second"),
        tail.events().stream().map(e -> e.path("event").asText()).toList());
    assertEquals(4, tail.skipped());
    assertFalse(tail.budgetSpent());
  }

  /**
   * Reads the tail in a JVM whose heap is far smaller than the line, as the daemon's start does.
   */
  public static final class TailUnderSmallHeap {
    public static void main(String[] args) {
      System.out.println("events=" + EventLog.tail(Path.of(args[0]), 500).size());
    }
  }

  @Test
  void aHugeLineOfNulBytesAtTheEndIsReadInBoundedMemory() throws Exception {
    Path file = dir.resolve("events.jsonl");
    EventLog events = new EventLog(file, Clock.systemUTC(), "c");
    for (int i = 0; i < 10; i++) {
      events.append("decision", Map.of("n", i, "highest_timeline", 2));
    }
    // 300 MB of NUL bytes and no newline, as found at the end of a real history: a sparse file.
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.setLength(f.length() + 300L * 1024 * 1024);
    }

    Process p =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElseThrow(),
                "-Xmx64m",
                "-cp",
                System.getProperty("java.class.path"),
                TailUnderSmallHeap.class.getName(),
                file.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("child.log").toFile())
            .start();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the read ends");
    String output = Files.readString(dir.resolve("child.log"));
    assertEquals(0, p.exitValue(), output);
    assertTrue(output.contains("events="), output);

    EventLog.Tail tail = EventLog.readTail(file, 500);
    assertTrue(tail.budgetSpent() || tail.skipped() > 0, tail.toString());
    // The next event is not glued onto the NUL bytes.
    new EventLog(file, Clock.systemUTC(), "c").append("controller_started", Map.of());
    assertEquals("controller_started", EventLog.tail(file, 1).get(0).path("event").asText());
  }

  private static boolean endsMidLine(Path file) throws IOException {
    if (!Files.exists(file)) {
      return false;
    }
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      if (f.length() == 0) {
        return false;
      }
      f.seek(f.length() - 1);
      return f.read() != '\n';
    }
  }

  private static boolean parses(String line) {
    try {
      return EventLog.JSON.readTree(line).isObject();
    } catch (IOException e) {
      return false;
    }
  }

  /** Runs a command; returns its output when it failed, else "". */
  private static String run(String... command) throws Exception {
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).start();
    } catch (IOException e) {
      return e.getMessage();
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return p.waitFor() == 0 ? "" : "exit " + p.exitValue() + ": " + out.strip();
  }
}
