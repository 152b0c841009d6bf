package io.pgfailover.controller.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.config.NotifyConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.NotificationTopic;
import io.pgfailover.testsupport.Waits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The couriers with a real hook process and an in-memory topic. */
class NotifierTest {
  @TempDir Path dir;

  Path script(String name, String body) throws Exception {
    Path p = Files.writeString(dir.resolve(name), "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    return p;
  }

  EventLog events;
  final Metrics metrics = new Metrics();

  @BeforeEach
  void history() {
    events = new EventLog(dir.resolve("e.jsonl"), Clock.systemUTC(), "c");
  }

  Notifier notifier(NotifyConfig config, Optional<NotificationTopic> topic) {
    return new Notifier(config, topic, "nat-a", events, metrics);
  }

  static NotifyConfig config(Optional<List<String>> command, boolean sns, Duration deadline) {
    return new NotifyConfig(
        command,
        Duration.ofMillis(500),
        sns ? Optional.of("arn:aws:sns:us-east-1:123456789012:t") : Optional.empty(),
        Set.of(NotableEvent.values()),
        2,
        deadline);
  }

  @Test
  void theHookGetsTheArgumentsAndTheJsonInOrderAfterTheHistory() throws Exception {
    Path out = dir.resolve("calls");
    Path hook = script("hook", "echo \"$* | $(cat)\" >> " + out + "\necho said $1");
    try (Notifier n =
        notifier(
            config(
                Optional.of(List.of(hook.toString(), "--team", "db")),
                false,
                Duration.ofSeconds(30)),
            Optional.empty())) {
      events.append("controller_started", Map.of());
      events.append("decision", Map.of("reason", "HEALTHY"));
      events.append("alarm_cleared", Map.of("kind", "NO_PRIMARY"));
      Waits.until(
          "two hook runs",
          Duration.ofSeconds(20),
          () -> metrics.counter(Courier.SENT, "channel=\"command\"") == 2);
    }
    List<String> calls = Files.readAllLines(out);
    assertEquals(2, calls.size(), calls.toString());
    assertTrue(
        calls.get(0).startsWith("--team db controller_started nat-a controller c | {"),
        calls.get(0));
    assertTrue(calls.get(0).contains("\"history_event\":\"controller_started\""), calls.get(0));
    assertTrue(calls.get(1).startsWith("--team db alarm_cleared nat-a controller c | {"));
  }

  @Test
  void aFailingHookIsRetriedThenDroppedCountedAndToldInTheHistory() throws Exception {
    Path hook = script("fail", "echo broken >&2\nexit 3");
    try (Notifier n =
        notifier(
            config(Optional.of(List.of(hook.toString())), false, Duration.ofMillis(1500)),
            Optional.empty())) {
      events.append("controller_started", Map.of());
      Waits.until(
          "the drop",
          Duration.ofSeconds(20),
          () -> metrics.counter(Courier.DROPPED, "channel=\"command\"") == 1);
    }
    JsonNode dropped = last(events, "notification_dropped");
    assertEquals("command", dropped.path("channel").asText());
    assertEquals("controller_started", dropped.path("notification").asText());
    assertTrue(dropped.path("why").asText().contains("exit code 3"), dropped.toString());
  }

  @Test
  void aHangingHookIsKilledWithItsChildren() throws Exception {
    Path pidFile = dir.resolve("child.pid");
    Path hook = script("hang", "sleep 600 &\necho $! > " + pidFile + "\nwait");
    try (Notifier n =
        notifier(
            config(Optional.of(List.of(hook.toString())), false, Duration.ofMillis(1200)),
            Optional.empty())) {
      events.append("controller_started", Map.of());
      Waits.until(
          "the drop",
          Duration.ofSeconds(20),
          () -> metrics.counter(Courier.DROPPED, "channel=\"command\"") == 1);
    }
    long child = Long.parseLong(Files.readString(pidFile).strip());
    Waits.until(
        "the hook's child gone",
        Duration.ofSeconds(10),
        () -> ProcessHandle.of(child).map(p -> !p.isAlive()).orElse(true));
    assertTrue(last(events, "notification_dropped").path("why").asText().contains("killed"));
  }

  @Test
  void aFullQueueDropsWithoutBlockingTheWriter() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> published = new CopyOnWriteArrayList<>();
    NotificationTopic stuck =
        (subject, message, attributes, within) -> {
          try {
            entered.countDown();
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          published.add(attributes.get("event"));
        };
    try (Notifier n =
        notifier(config(Optional.empty(), true, Duration.ofSeconds(30)), Optional.of(stuck))) {
      // One in delivery, two queued (queue: 2), the rest dropped, all while the writer goes on.
      events.append("alarm_cleared", Map.of("kind", "K0"));
      entered.await();
      for (int i = 1; i < 6; i++) {
        events.append("alarm_cleared", Map.of("kind", "K" + i));
      }
      assertEquals(3, metrics.counter(Courier.DROPPED, "channel=\"sns\""));
      release.countDown();
      Waits.until("the queued ones sent", Duration.ofSeconds(10), () -> published.size() == 3);
    }
    assertEquals(3, metrics.counter(Courier.DROPPED, "channel=\"sns\""));
    assertEquals("queue full", last(events, "notification_dropped").path("why").asText());
    assertEquals(
        3, last(events, "notification_dropped").path("count").asLong(), "told once, with a count");
  }

  static JsonNode last(EventLog events, String name) {
    return events.tail(100).stream()
        .filter(e -> e.path("event").asText().equals(name))
        .reduce((a, b) -> b)
        .orElseThrow(() -> new AssertionError("no " + name + " in " + events.tail(100)));
  }
}
