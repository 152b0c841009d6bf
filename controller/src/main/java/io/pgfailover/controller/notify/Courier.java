package io.pgfailover.controller.notify;

import io.github.resilience4j.core.IntervalFunction;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.loop.Metrics;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries one channel's notifications, one at a time and in order, on a thread of its own: a
 * bounded queue (full: the new one is dropped), retries with backoff until the notification's
 * deadline (then it is dropped). Every drop is counted in {@code
 * pgfailover_notifications_dropped_total{channel}} and told in a {@code notification_dropped}
 * event, written by this thread, never by the one that offered.
 */
final class Courier implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Courier.class);

  static final String DROPPED = "pgfailover_notifications_dropped_total";
  static final String SENT = "pgfailover_notifications_sent_total";

  /**
   * First retry after 1 s, doubling up to a minute, each wait randomised by ±50 %: a hook or a
   * topic down for a while is asked about once a minute, and many controllers do not retry at the
   * same moment.
   */
  static final IntervalFunction BACKOFF =
      IntervalFunction.ofExponentialRandomBackoff(
          Duration.ofSeconds(1), 2.0, 0.5, Duration.ofMinutes(1));

  private record Queued(Notification notification, long enqueuedNanos) {}

  private final Channel channel;
  private final Duration deadline;
  private final EventLog events;
  private final Metrics metrics;
  private final BlockingQueue<Queued> queue;
  private final Thread thread;

  /** Dropped because the queue was full, not yet told in an event (the offering thread counts). */
  private final AtomicLong droppedFull = new AtomicLong();

  private volatile boolean closing;

  Courier(Channel channel, int capacity, Duration deadline, EventLog events, Metrics metrics) {
    this.channel = channel;
    this.deadline = deadline;
    this.events = events;
    this.metrics = metrics;
    this.queue = new ArrayBlockingQueue<>(capacity);
    // Both series exist from the start, so a rule on their rate sees 0, not nothing.
    metrics.add(DROPPED, DROPPED_HELP, label(), 0);
    metrics.add(SENT, "Notifications delivered, by channel.", label(), 0);
    this.thread = new Thread(this::run, "notify-" + channel.name());
    thread.setDaemon(true);
    thread.start();
  }

  static final String DROPPED_HELP =
      "Notifications given up on (queue full, or not delivered by notify.deadline), by channel.";

  private String label() {
    return "channel=\"" + channel.name() + "\"";
  }

  /** Queues {@code n}, or drops it when the queue is full. Never blocks. */
  void offer(Notification n) {
    if (closing || !queue.offer(new Queued(n, System.nanoTime()))) {
      metrics.count(DROPPED, DROPPED_HELP, label());
      droppedFull.incrementAndGet();
    }
  }

  private void run() {
    while (!closing || !queue.isEmpty()) {
      reportFullDrops();
      Queued q;
      try {
        q = queue.poll(200, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        break;
      }
      if (q != null) {
        deliver(q);
      }
    }
    reportFullDrops();
    int left = queue.size();
    queue.clear();
    if (left > 0) {
      metrics.add(DROPPED, DROPPED_HELP, label(), left);
      dropped("", left, "controller stopped before they were delivered");
    }
  }

  private void deliver(Queued q) {
    Notification n = q.notification();
    long deadlineNanos = q.enqueuedNanos() + deadline.toNanos();
    String lastError = "";
    for (int attempt = 1; ; attempt++) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        break;
      }
      try {
        channel.deliver(n, Duration.ofNanos(left));
        metrics.count(SENT, "Notifications delivered, by channel.", label());
        log.info(
            "event=notification_sent channel={} notification={} attempt={}",
            channel.name(),
            n.event().text(),
            attempt);
        return;
      } catch (Channel.Failed e) {
        lastError = e.getMessage();
        long wait = BACKOFF.apply(attempt);
        if (wait >= (deadlineNanos - System.nanoTime()) / 1_000_000) {
          // The next attempt would start at or past the deadline, with no time to run: drop now.
          log.warn(
              "event=notification_failed channel={} notification={} attempt={} error={}"
                  + " retry=none",
              channel.name(),
              n.event().text(),
              attempt,
              LogText.quoted(lastError));
          break;
        }
        log.warn(
            "event=notification_failed channel={} notification={} attempt={} error={}"
                + " retry_in_ms={}",
            channel.name(),
            n.event().text(),
            attempt,
            LogText.quoted(lastError),
            wait);
        try {
          Thread.sleep(wait);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          lastError = "stopped while retrying: " + lastError;
          break;
        }
      }
    }
    metrics.count(DROPPED, DROPPED_HELP, label());
    dropped(n.event().text(), 1, "not delivered within notify.deadline: " + lastError);
  }

  private void reportFullDrops() {
    long n = droppedFull.getAndSet(0);
    if (n > 0) {
      dropped("", n, "queue full");
    }
  }

  private void dropped(String notification, long count, String why) {
    log.error(
        "event=notification_dropped channel={} notification={} count={} why={}",
        channel.name(),
        notification,
        count,
        LogText.quoted(why));
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("channel", channel.name());
    if (!notification.isEmpty()) {
      f.put("notification", notification);
    }
    f.put("count", count);
    f.put("why", why);
    events.append("notification_dropped", f);
  }

  /**
   * Stops taking notifications and delivers what is queued for up to {@code grace} (the {@code
   * controller_stopping} notification among them), then gives up on the rest.
   */
  @Override
  public void close() {
    close(Duration.ZERO);
  }

  void close(Duration grace) {
    closing = true;
    try {
      thread.join(Math.max(1, grace.toMillis()));
      if (thread.isAlive()) {
        thread.interrupt();
        thread.join(1000);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
