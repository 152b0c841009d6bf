package io.pgfailover.controller.config;

import io.pgfailover.controller.notify.NotableEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Who is told about notable events ({@code notify:}), and how hard the controller tries. Every
 * channel is optional; with none, nothing is sent.
 *
 * @param command the hook: an absolute executable path and its fixed arguments; the event's {@code
 *     EVENT NODE ROLE CLUSTER} are appended, the event's JSON goes to its stdin
 * @param commandTimeout the hook's process tree is killed after this long
 * @param snsTopicArn the SNS topic the event's JSON is published to
 * @param events which notable events are sent; all by default
 * @param queue how many notifications each channel holds before it drops new ones
 * @param deadline a notification not delivered this long after its event (retries with backoff
 *     included) is dropped
 */
public record NotifyConfig(
    Optional<List<String>> command,
    Duration commandTimeout,
    Optional<String> snsTopicArn,
    Set<NotableEvent> events,
    int queue,
    Duration deadline) {
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(10);
  public static final int DEFAULT_QUEUE = 100;
  public static final int MAX_QUEUE = 10_000;
  public static final Duration DEFAULT_DEADLINE = Duration.ofMinutes(5);

  /** No {@code notify:} block: no channel. */
  public static final NotifyConfig NONE =
      new NotifyConfig(
          Optional.empty(),
          DEFAULT_COMMAND_TIMEOUT,
          Optional.empty(),
          Set.of(NotableEvent.values()),
          DEFAULT_QUEUE,
          DEFAULT_DEADLINE);

  public NotifyConfig {
    command = command.map(List::copyOf);
    events = Set.copyOf(events);
  }

  public boolean any() {
    return command.isPresent() || snsTopicArn.isPresent();
  }

  public Optional<Path> commandPath() {
    return command.map(c -> Path.of(c.get(0)));
  }
}
