package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.loop.FailoverTimeline;
import io.pgfailover.controller.notify.Notable;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.MotoCloudWatch;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPairExtension;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.cloudwatch.model.Metric;
import software.amazon.awssdk.services.cloudwatch.model.MetricDataResult;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * A failover on the real pair with every channel configured (the hook, SNS read back through a
 * subscribed SQS queue, CloudWatch), and with channels that fail: the failover goes on the same.
 * Each run prints its phase times; speed is not asserted (see bench/).
 */
class NotifyIT {
  @RegisterExtension static PostgresPairExtension pg = new PostgresPairExtension();
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  static final ObjectMapper JSON = new ObjectMapper();
  static final Duration FAILOVER_BOUND = Duration.ofSeconds(60);
  static final String NAMESPACE = "PgFailoverIT";

  @TempDir Path dir;
  LabCluster lab;

  @AfterEach
  void close() throws Exception {
    if (lab != null) {
      lab.close();
    }
  }

  @Test
  void aFailoverIsToldThroughTheHookSnsAndCloudWatch() throws Exception {
    Path calls = dir.resolve("hook-calls");
    Path hook = script("hook", "printf '%s\\n%s\\n' \"$*\" \"$(cat)\" >> " + calls);
    try (SnsClient sns = aws.client(SnsClient.builder());
        SqsClient sqs = aws.client(SqsClient.builder());
        CloudWatchClient cloudWatch = aws.client(CloudWatchClient.builder())) {
      String topic = sns.createTopic(b -> b.name("pgfailover-it")).topicArn();
      String queueUrl = sqs.createQueue(b -> b.queueName("pager")).queueUrl();
      String queueArn =
          sqs.getQueueAttributes(
                  b -> b.queueUrl(queueUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
              .attributes()
              .get(QueueAttributeName.QUEUE_ARN);
      sns.subscribe(b -> b.topicArn(topic).protocol("sqs").endpoint(queueArn));

      FailoverTimeline t =
          failover(
              String.join(
                  "\n",
                  "notify:",
                  "  command: [" + hook + ", --team, db]",
                  "  commandTimeout: 5s",
                  "  sns: {topicArn: '" + topic + "'}",
                  "  deadline: 30s",
                  "cloudwatch: {namespace: " + NAMESPACE + ", interval: 1s}",
                  ""),
              List.of(new MotoCloudWatch()),
              "all channels");
      String to = t.to();

      // SNS, as a subscribed queue received it: the subject, the JSON, the filterable attributes.
      JsonNode delivered = awaitSqs(sqs, queueUrl, "failover_finished");
      assertEquals(
          "lab", delivered.path("MessageAttributes").path("cluster").path("Value").asText());
      assertEquals(
          "String", delivered.path("MessageAttributes").path("event").path("Type").asText());
      assertTrue(
          delivered.path("Subject").asText().startsWith("pgfailover lab: failover finished: "),
          delivered.path("Subject").asText());
      JsonNode message = JSON.readTree(delivered.path("Message").asText());
      assertEquals(to, message.path("to").asText());
      assertEquals(
          List.of("failure_first_seen", "confirmed", "promoted", "routes_switched", "verified"),
          fieldNames(message.path("phases_ms")));
      System.out.println("NotifyIT SNS subject: " + delivered.path("Subject").asText());

      // CloudWatch: the failover counted and its phases, the leader's health, every datum with
      // Cluster.
      Waits.until(
          "FailoverPhaseMs and Failovers in CloudWatch",
          Duration.ofSeconds(30),
          () -> names(cloudWatch).containsAll(List.of("FailoverPhaseMs", "Failovers", "Healthy")));
      List<Metric> metrics = cloudWatch.listMetrics(b -> b.namespace(NAMESPACE)).metrics();
      assertTrue(
          metrics.stream()
              .allMatch(
                  m ->
                      m.dimensions().stream()
                          .anyMatch(d -> d.name().equals("Cluster") && d.value().equals("lab"))),
          metrics.toString());
      assertTrue(
          names(cloudWatch)
              .containsAll(
                  List.of(
                      "Leader", "Ec2CallErrors", "StandbyStreaming", "AlarmsActive", "Healthy")),
          names(cloudWatch).toString());
      assertEquals(1.0, sum(cloudWatch, "Failovers", List.of("Cluster", "lab")));
      assertEquals(
          (double) t.phasesMs().get("verified"),
          sum(cloudWatch, "FailoverPhaseMs", List.of("Cluster", "lab", "Phase", "verified")));
      // The hook: once per notable event of the history, in its order, with the documented
      // arguments and the event's JSON on stdin.
      // Stopped, the history is complete and the queued notifications delivered.
      lab.stop();
      List<ObjectNode> expected = new ArrayList<>();
      for (JsonNode e : EventLog.tail(lab.eventLog, 1000)) {
        Notable.of((ObjectNode) e, lab.config.controllerName())
            .ifPresent(n -> expected.add(json(n.json())));
      }
      List<String> lines = Files.readAllLines(calls);
      List<String> args = new ArrayList<>();
      List<ObjectNode> stdin = new ArrayList<>();
      for (int i = 0; i + 1 < lines.size(); i += 2) {
        args.add(lines.get(i));
        stdin.add(json(lines.get(i + 1)));
      }
      assertEquals(
          expected.stream()
              .map(
                  e ->
                      "--team db "
                          + e.path("event").asText()
                          + " "
                          + e.path("node").asText()
                          + " "
                          + e.path("role").asText()
                          + " lab")
              .toList(),
          args,
          "one run per notable event, in the history's order");
      assertEquals(expected, stdin, "each run's stdin is the event's JSON");
      assertTrue(
          args.contains("--team db failover_started " + to + " primary lab"), args.toString());
      assertTrue(
          args.indexOf("--team db failover_started " + to + " primary lab")
              < args.indexOf("--team db failover_finished " + to + " primary lab"),
          args.toString());
      ObjectNode finished =
          stdin.stream()
              .filter(e -> e.path("event").asText().equals("failover_finished"))
              .findFirst()
              .orElseThrow();
      assertEquals(
          List.of("failure_first_seen", "confirmed", "promoted", "routes_switched", "verified"),
          fieldNames(finished.path("phases_ms")));
      assertEquals(finished, json(message.toString()), "SNS sent the same JSON as the hook got");
      System.out.println("NotifyIT example notification (hook stdin): " + finished);
    }
  }

  @Test
  void hooksThatHangOrFailAndAnUnreachableTopicDoNotHoldTheFailoverUp() throws Exception {
    FailoverTimeline without = failover("", List.of(), "no channels");
    lab.close();
    lab = null;
    for (String hookBody : List.of("sleep 600", "echo 'pager down' >&2; exit 1")) {
      Path hook = script("hook", hookBody);
      FailoverTimeline with =
          failover(
              String.join(
                  "\n",
                  "notify:",
                  "  command: [" + hook + "]",
                  "  commandTimeout: 1s",
                  "  sns: {topicArn: 'arn:aws:sns:"
                      + aws.region()
                      + ":"
                      + aws.accountId()
                      + ":nowhere'}",
                  "  deadline: 3s",
                  ""),
              List.of(new SnsToClosedPort(closedPort())),
              "hook '" + hookBody + "', SNS on a closed port");
      assertTrue(with.completed());
      Waits.until(
          "the drops counted",
          Duration.ofSeconds(30),
          () ->
              lab.metrics.counter("pgfailover_notifications_dropped_total", "channel=\"command\"")
                      >= 2
                  && lab.metrics.counter(
                          "pgfailover_notifications_dropped_total", "channel=\"sns\"")
                      >= 2);
      List<JsonNode> events = EventLog.tail(lab.eventLog, 1000);
      assertTrue(
          events.stream()
              .anyMatch(
                  e ->
                      e.path("event").asText().equals("notification_dropped")
                          && e.path("channel").asText().equals("sns")),
          "the drops are in the history");
      assertTrue(
          events.stream().anyMatch(e -> e.path("event").asText().equals("failover_timeline")));
      lab.awaitDecision(
          "a healthy loop on the new primary",
          Duration.ofSeconds(30),
          r -> r.decision().reason() == Reason.HEALTHY);
      System.out.println(
          "NotifyIT phases without channels: " + without.render() + " | with: " + with.render());
      lab.close();
      lab = null;
    }
  }

  /** Starts a lab with {@code moreYaml}, kills the primary and waits for the failover. */
  FailoverTimeline failover(String moreYaml, List<ExecutionInterceptor> interceptors, String what)
      throws Exception {
    lab =
        new LabCluster(
            pg.pair(),
            aws,
            Files.createTempDirectory(dir, "lab"),
            LabConfig.DEFAULT_FAILOVER,
            Map.of(),
            Map.of(),
            moreYaml,
            interceptors);
    PgNode primary = pg.primary();
    lab.start();
    lab.awaitDecision(
        "a healthy first loop",
        Duration.ofSeconds(30),
        r -> r.decision().reason() == Reason.HEALTHY);
    pg.kill(primary);
    // From the history, not the loop's last report: the loop after the failover may replace that
    // before a poll sees it.
    JsonNode[] timeline = new JsonNode[1];
    Waits.until(
        "the failover (" + what + ")",
        FAILOVER_BOUND,
        () -> {
          EventLog.tail(lab.eventLog, 1000).stream()
              .filter(e -> e.path("event").asText().equals("failover_timeline"))
              .filter(e -> e.path("completed").asBoolean())
              .findFirst()
              .ifPresent(e -> timeline[0] = e);
          return timeline[0] != null;
        });
    Map<String, Long> phases = new java.util.LinkedHashMap<>();
    timeline[0]
        .path("phases_ms")
        .fields()
        .forEachRemaining(f -> phases.put(f.getKey(), f.getValue().asLong()));
    FailoverTimeline t =
        new FailoverTimeline(
            timeline[0].path("kind").asText(),
            timeline[0].path("from").asText(),
            timeline[0].path("to").asText(),
            Instant.parse(timeline[0].path("start").asText()),
            phases,
            true);
    assertTrue(lab.routesOn(t.to()), lab.routeTargets().toString());
    System.out.println("NotifyIT phases (" + what + "): " + t.render());
    return t;
  }

  Path script(String name, String body) throws Exception {
    Path p = Files.writeString(dir.resolve(name), "#!/bin/sh\n" + body + "\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwx------"));
    return p;
  }

  static ObjectNode json(String text) {
    try {
      return (ObjectNode) JSON.readTree(text);
    } catch (Exception e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }

  static List<String> fieldNames(JsonNode o) {
    List<String> names = new ArrayList<>();
    o.fieldNames().forEachRemaining(names::add);
    return names;
  }

  /** The SNS envelope of the first message in the queue whose {@code event} attribute matches. */
  static JsonNode awaitSqs(SqsClient sqs, String queueUrl, String event) {
    JsonNode[] found = new JsonNode[1];
    Waits.until(
        "an SNS message for " + event + " in the queue",
        Duration.ofSeconds(30),
        () -> {
          for (Message m :
              sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)).messages()) {
            JsonNode envelope = JSON.readTree(m.body());
            if (event.equals(
                envelope.path("MessageAttributes").path("event").path("Value").asText())) {
              found[0] = envelope;
            }
          }
          return found[0] != null;
        });
    return found[0];
  }

  static List<String> names(CloudWatchClient cw) {
    return cw.listMetrics(b -> b.namespace(NAMESPACE)).metrics().stream()
        .map(Metric::metricName)
        .distinct()
        .toList();
  }

  /**
   * @param dims name, value, name, value... in the order they were put (moto matches dimensions in
   *     order; CloudWatch does not mind)
   */
  static double sum(CloudWatchClient cw, String metric, List<String> dims) {
    List<software.amazon.awssdk.services.cloudwatch.model.Dimension> dimensions = new ArrayList<>();
    for (int i = 0; i + 1 < dims.size(); i += 2) {
      String name = dims.get(i);
      String value = dims.get(i + 1);
      dimensions.add(
          software.amazon.awssdk.services.cloudwatch.model.Dimension.builder()
              .name(name)
              .value(value)
              .build());
    }
    Instant now = Instant.now();
    MetricDataResult r =
        cw.getMetricData(
                b ->
                    b.startTime(now.minus(Duration.ofMinutes(10)))
                        .endTime(now.plus(Duration.ofMinutes(1)))
                        .metricDataQueries(
                            q ->
                                q.id("m")
                                    .metricStat(
                                        s ->
                                            s.stat("Sum")
                                                .period(3600)
                                                .metric(
                                                    m ->
                                                        m.namespace(NAMESPACE)
                                                            .metricName(metric)
                                                            .dimensions(dimensions)))))
            .metricDataResults()
            .get(0);
    return r.values().stream().mapToDouble(Double::doubleValue).sum();
  }

  static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Sends the controller's SNS requests to a port nobody listens on: SNS unreachable. */
  record SnsToClosedPort(int port) implements ExecutionInterceptor {
    @Override
    public SdkHttpRequest modifyHttpRequest(
        Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
      return "Sns".equals(attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME))
          ? context.httpRequest().toBuilder().port(port).build()
          : context.httpRequest();
    }
  }
}
