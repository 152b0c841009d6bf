package io.pgfailover.controller.port;

import java.util.List;
import java.util.Map;

/**
 * Where the controller's metrics go once per interval (CloudWatch). Implemented over aws-adapter.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li><b>Not atomic:</b> a batch larger than one request allows is sent in several; a failure may
 *       leave the first ones sent.
 *   <li><b>Not idempotent:</b> a repeated batch adds its datapoints again (CloudWatch keeps both);
 *       the caller does not repeat one, the next interval sends fresh values.
 *   <li><b>Values versus exceptions:</b> returns when every datum was accepted; throws {@link
 *       Unavailable} otherwise.
 *   <li><b>Bounded:</b> within the adapter's call timeout and retry deadline per request.
 * </ul>
 */
public interface MetricsSink {
  /** CloudWatch's units, as far as the controller's metrics need them. */
  enum Unit {
    NONE,
    COUNT,
    BYTES,
    MILLISECONDS
  }

  /** One value of one metric, with its dimensions in order (e.g. Cluster, then Kind). */
  record Datum(String name, Map<String, String> dimensions, double value, Unit unit) {
    public Datum {
      dimensions = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(dimensions));
    }
  }

  void put(String namespace, List<Datum> data);

  /** The sink did not take the batch. */
  final class Unavailable extends RuntimeException {
    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
