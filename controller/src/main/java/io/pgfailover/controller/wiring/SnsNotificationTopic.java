package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.AwsSettings;
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
    // The adapter's retries stop at its usual deadline; the courier's own backoff (up to a minute
    // between tries) carries a longer outage, so an unreachable topic is not asked every 2 s.
    Duration bound =
        within.compareTo(AwsSettings.DEFAULT_RETRY_DEADLINE) < 0
            ? within
            : AwsSettings.DEFAULT_RETRY_DEADLINE;
    try {
      topic.publish(subject, message, attributes, bound);
    } catch (AwsCallException e) {
      throw new Unavailable(e.getMessage(), e);
    }
  }
}
