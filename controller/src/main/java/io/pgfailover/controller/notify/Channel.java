package io.pgfailover.controller.notify;

import java.time.Duration;

/** One way of telling people: the hook command, the SNS topic. Called by one {@link Courier}. */
interface Channel {
  /** The {@code channel} label of the metrics and events: command, sns. */
  String name();

  /**
   * Delivers one notification, within {@code within} (plus one bounded attempt in flight).
   *
   * @throws Failed when it was not delivered; the courier retries until the deadline
   */
  void deliver(Notification n, Duration within) throws Failed;

  /** A delivery that did not happen, and why (logged with the attempt). */
  final class Failed extends Exception {
    Failed(String message) {
      super(message, null, false, false);
    }
  }
}
