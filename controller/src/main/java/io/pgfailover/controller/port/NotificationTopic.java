package io.pgfailover.controller.port;

import java.time.Duration;
import java.util.Map;

/**
 * The topic notable events are published to (SNS). Implemented over aws-adapter.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li><b>Atomic:</b> one publish is one message; a subscriber receives it whole or not at all.
 *   <li><b>Not idempotent:</b> a publish repeated after a failure whose outcome is unknown (a
 *       timeout) may deliver the message twice; subscribers see the event's {@code ts} and {@code
 *       event} to tell.
 *   <li><b>Values versus exceptions:</b> returns when the topic accepted the message; throws {@link
 *       Unavailable} when it did not (unreachable, throttled past the bound, denied, no such
 *       topic).
 *   <li><b>Bounded:</b> retries (the adapter's policy) stop within {@code within}; one attempt in
 *       flight then may add up to the adapter's call timeout.
 * </ul>
 */
public interface NotificationTopic {
  /**
   * Publishes one message.
   *
   * @param subject a short line for e-mail subscribers (ASCII, under 100 characters)
   * @param message the event's JSON
   * @param attributes string message attributes subscriptions filter on ({@code event}, {@code
   *     cluster})
   */
  void publish(String subject, String message, Map<String, String> attributes, Duration within);

  /** The topic did not take the message. */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
