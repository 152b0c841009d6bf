package io.pgfailover.aws;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.sns.model.MessageAttributeValue;

/**
 * Publishes messages to one SNS topic under the adapter's retry policy (a retry deadline given per
 * call) and its timeouts. Every failure, after retries, is an {@link AwsCallException}.
 */
public final class SnsTopic {
  private final AwsClients clients;
  private final String topicArn;

  public SnsTopic(AwsClients clients, String topicArn) {
    this.clients = clients;
    this.topicArn = topicArn;
  }

  /**
   * One Publish: {@code subject} for e-mail subscribers, {@code message} the body, each attribute a
   * String message attribute (subscription filter policies match on them).
   *
   * @return the message id SNS gave it
   */
  public String publish(
      String subject, String message, Map<String, String> attributes, Duration retryDeadline) {
    Map<String, MessageAttributeValue> attrs = new LinkedHashMap<>();
    attributes.forEach(
        (k, v) ->
            attrs.put(
                k, MessageAttributeValue.builder().dataType("String").stringValue(v).build()));
    return clients
        .call(
            "sns:Publish",
            topicArn,
            new AtomicInteger(),
            retryDeadline,
            () ->
                clients
                    .sns()
                    .publish(
                        b ->
                            b.topicArn(topicArn)
                                .subject(subject)
                                .message(message)
                                .messageAttributes(attrs)))
        .messageId();
  }
}
