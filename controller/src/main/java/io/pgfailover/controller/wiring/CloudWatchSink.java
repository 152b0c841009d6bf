package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.CloudWatchMetrics;
import io.pgfailover.controller.port.MetricsSink;
import java.time.Clock;
import java.util.List;

/** {@link MetricsSink} over aws-adapter. */
final class CloudWatchSink implements MetricsSink {
  private final CloudWatchMetrics cloudWatch;
  private final Clock clock;

  CloudWatchSink(AwsClients clients, Clock clock) {
    this.cloudWatch = new CloudWatchMetrics(clients);
    this.clock = clock;
  }

  @Override
  public void put(String namespace, List<Datum> data) {
    try {
      cloudWatch.put(
          namespace,
          data.stream()
              .map(
                  d ->
                      new CloudWatchMetrics.Datum(
                          d.name(), d.dimensions(), d.value(), unit(d.unit())))
              .toList(),
          clock.instant());
    } catch (AwsCallException e) {
      throw new Unavailable(e.getMessage(), e);
    }
  }

  private static String unit(Unit u) {
    return switch (u) {
      case NONE -> "None";
      case COUNT -> "Count";
      case BYTES -> "Bytes";
      case MILLISECONDS -> "Milliseconds";
    };
  }
}
