package io.pgfailover.aws;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.cloudwatch.model.Dimension;
import software.amazon.awssdk.services.cloudwatch.model.MetricDatum;
import software.amazon.awssdk.services.cloudwatch.model.StandardUnit;

/**
 * Puts metric data into one CloudWatch namespace under the adapter's retry policy and timeouts.
 * Every failure, after retries, is an {@link AwsCallException}.
 */
public final class CloudWatchMetrics {
  /** CloudWatch takes up to 1000 data per PutMetricData request. */
  static final int MAX_DATA_PER_REQUEST = 1000;

  /** One value: its dimensions in order, its unit as CloudWatch names it (Count, Bytes, ...). */
  public record Datum(String name, Map<String, String> dimensions, double value, String unit) {}

  private final AwsClients clients;

  public CloudWatchMetrics(AwsClients clients) {
    this.clients = clients;
  }

  /** One PutMetricData per 1000 data, all stamped {@code at}. */
  public void put(String namespace, List<Datum> data, Instant at) {
    List<MetricDatum> all = new ArrayList<>();
    for (Datum d : data) {
      List<Dimension> dims = new ArrayList<>();
      d.dimensions().forEach((k, v) -> dims.add(Dimension.builder().name(k).value(v).build()));
      all.add(
          MetricDatum.builder()
              .metricName(d.name())
              .dimensions(dims)
              .value(d.value())
              .unit(StandardUnit.fromValue(d.unit()))
              .timestamp(at)
              .build());
    }
    for (int i = 0; i < all.size(); i += MAX_DATA_PER_REQUEST) {
      List<MetricDatum> chunk = all.subList(i, Math.min(all.size(), i + MAX_DATA_PER_REQUEST));
      clients.call(
          "cloudwatch:PutMetricData",
          namespace,
          new AtomicInteger(),
          () -> clients.cloudWatch().putMetricData(b -> b.namespace(namespace).metricData(chunk)));
    }
  }
}
