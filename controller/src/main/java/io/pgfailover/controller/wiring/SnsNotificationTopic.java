package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.SnsTopic;
import io.pgfailover.controller.port.NotificationTopic;
import java.time.Duration;
import java.util.Map;

/** {@link NotificationTopic} over aws-adapter. */
final class SnsNotificationTopic implements NotificationTopic {
  private final SnsTopic topic;

  SnsNotificationTopic(AwsClients clients, String topicArn) {
    this.topic = new SnsTopic(clients, topicArn);
  }

  @Override
  public void publish(
      String subject, String message, Map<String, String> attributes, Duration within) {
    try {
      topic.publish(subject, message, attributes, within);
    } catch (AwsCallException e) {
      throw new Unavailable(e.getMessage(), e);
    }
  }
}
