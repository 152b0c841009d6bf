package io.pgfailover.controller.notify;

import io.pgfailover.controller.port.NotificationTopic;
import java.time.Duration;
import java.util.Map;

/** Publishes each notification to the SNS topic, with attributes subscriptions can filter on. */
final class TopicChannel implements Channel {
  private final NotificationTopic topic;

  TopicChannel(NotificationTopic topic) {
    this.topic = topic;
  }

  @Override
  public String name() {
    return "sns";
  }

  @Override
  public void deliver(Notification n, Duration within) throws Failed {
    try {
      topic.publish(
          n.subject(), n.json(), Map.of("event", n.event().text(), "cluster", n.cluster()), within);
    } catch (NotificationTopic.Unavailable e) {
      throw new Failed(e.getMessage());
    }
  }
}
