package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.MotoCloudWatch;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.Metric;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * {@link SnsTopic} and {@link CloudWatchMetrics} against the emulator, read back by other means.
 */
class NotifyChannelsIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();
  static final ObjectMapper JSON = new ObjectMapper();

  private AwsClients clients;

  @BeforeEach
  void setUp() {
    clients =
        AwsClients.builder(Emulated.settings(aws))
            .credentialsProvider(aws.credentialsProvider())
            .addInterceptor(new MotoCloudWatch())
            .build();
  }

  @AfterEach
  void close() {
    clients.close();
  }

  @Test
  void aPublishReachesASubscribedQueueWithItsSubjectAndAttributes() {
    try (SnsClient sns = aws.client(SnsClient.builder());
        SqsClient sqs = aws.client(SqsClient.builder())) {
      String topic = sns.createTopic(b -> b.name("pgfailover")).topicArn();
      String queue = sqs.createQueue(b -> b.queueName("pager")).queueUrl();
      String queueArn =
          sqs.getQueueAttributes(
                  b -> b.queueUrl(queue).attributeNames(QueueAttributeName.QUEUE_ARN))
              .attributes()
              .get(QueueAttributeName.QUEUE_ARN);
      sns.subscribe(b -> b.topicArn(topic).protocol("sqs").endpoint(queueArn));

      String id =
          new SnsTopic(clients, topic)
              .publish(
                  "pgfailover c: failover finished",
                  "{\"event\":\"failover_finished\"}",
                  Map.of("event", "failover_finished", "cluster", "c"),
                  Duration.ofSeconds(5));

      List<JsonNode> got = new ArrayList<>();
      Waits.until(
          "the message in the queue",
          Duration.ofSeconds(20),
          () -> {
            for (Message m : sqs.receiveMessage(b -> b.queueUrl(queue)).messages()) {
              got.add(JSON.readTree(m.body()));
            }
            return !got.isEmpty();
          });
      JsonNode envelope = got.get(0);
      assertEquals(id, envelope.path("MessageId").asText());
      assertEquals("pgfailover c: failover finished", envelope.path("Subject").asText());
      assertEquals("{\"event\":\"failover_finished\"}", envelope.path("Message").asText());
      JsonNode attributes = envelope.path("MessageAttributes");
      assertEquals("String", attributes.path("event").path("Type").asText());
      assertEquals("failover_finished", attributes.path("event").path("Value").asText());
      assertEquals("c", attributes.path("cluster").path("Value").asText());
    }
  }

  @Test
  void aTopicThatIsNotThereIsAnAwsCallException() {
    SnsTopic nowhere =
        new SnsTopic(
            clients, "arn:aws:sns:" + aws.region() + ":" + aws.accountId() + ":no-such-topic");
    AwsCallException e =
        assertThrows(
            AwsCallException.class,
            () -> nowhere.publish("s", "{}", Map.of(), Duration.ofSeconds(2)));
    assertTrue(e.getMessage().contains("sns:Publish"), e.getMessage());
  }

  @Test
  void moreDataThanOneRequestTakesAreAllPut() {
    List<CloudWatchMetrics.Datum> data = new ArrayList<>();
    for (int i = 0; i < CloudWatchMetrics.MAX_DATA_PER_REQUEST + 5; i++) {
      Map<String, String> dims = new LinkedHashMap<>();
      dims.put("Cluster", "c");
      dims.put("Kind", "K" + i);
      data.add(new CloudWatchMetrics.Datum("AlarmsActive", dims, i % 2, "Count"));
    }
    data.add(new CloudWatchMetrics.Datum("Healthy", Map.of("Cluster", "c"), 1, "None"));
    // LocalStack stores each of the 1,000 new metrics one by one and takes longer than the
    // adapter's 2 s attempt timeout; the split into requests is what this test is about.
    AwsClients patient =
        AwsClients.builder(
                Emulated.settings(aws)
                    .withRetryDeadline(Duration.ofSeconds(120))
                    .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(30)))
            .credentialsProvider(aws.credentialsProvider())
            .addInterceptor(new MotoCloudWatch())
            .build();
    try (patient) {
      new CloudWatchMetrics(patient).put("PgFailoverTest", data, Instant.now());
      assertEquals(2, patient.requestsSent(), "two PutMetricData requests");
    }
    try (CloudWatchClient cw = aws.client(CloudWatchClient.builder())) {
      List<Metric> metrics = new ArrayList<>();
      cw.listMetricsPaginator(b -> b.namespace("PgFailoverTest")).metrics().forEach(metrics::add);
      assertEquals(CloudWatchMetrics.MAX_DATA_PER_REQUEST + 6, metrics.size());
      assertTrue(
          metrics.stream().anyMatch(m -> m.metricName().equals("Healthy")), metrics.toString());
    }
  }
}
