package io.pgfailover.controller.notify;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.controller.config.NotifyConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.NotificationTopic;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Tells people about notable events: follows the event history ({@link EventLog#subscribe}), picks
 * the notable events the config's filter lets through ({@link Notable}) and hands each to every
 * channel's {@link Courier}. Nothing here runs on the thread that wrote the event beyond a queue
 * offer.
 */
public final class Notifier implements AutoCloseable {
  /** How long a clean stop waits for queued notifications ({@code controller_stopping}). */
  public static final Duration STOP_GRACE = Duration.ofSeconds(15);

  private final List<Courier> couriers = new ArrayList<>();
  private final NotifyConfig config;
  private final String controller;

  /**
   * Starts the couriers of every configured channel and follows {@code events}.
   *
   * @param topic the SNS topic's port, present when {@code notify.sns} is
   * @param controller this controller's name (NODE of the events about the controller)
   */
  public Notifier(
      NotifyConfig config,
      Optional<NotificationTopic> topic,
      String controller,
      EventLog events,
      Metrics metrics) {
    this.config = config;
    this.controller = controller;
    config
        .command()
        .ifPresent(
            c ->
                couriers.add(
                    new Courier(
                        new CommandChannel(c, config.commandTimeout()),
                        config.queue(),
                        config.deadline(),
                        events,
                        metrics)));
    topic.ifPresent(
        t ->
            couriers.add(
                new Courier(
                    new TopicChannel(t), config.queue(), config.deadline(), events, metrics)));
    events.subscribe(this::written);
  }

  private void written(ObjectNode event) {
    if (couriers.isEmpty()) {
      return;
    }
    Notable.of(event, controller)
        .filter(n -> config.events().contains(n.event()))
        .ifPresent(n -> couriers.forEach(c -> c.offer(n)));
  }

  /** Delivers what is queued for up to {@link #STOP_GRACE} per channel, at once, then stops. */
  @Override
  public void close() {
    List<Thread> closing = new ArrayList<>();
    for (Courier c : couriers) {
      Thread t = new Thread(() -> c.close(STOP_GRACE), "notify-close");
      t.start();
      closing.add(t);
    }
    for (Thread t : closing) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
