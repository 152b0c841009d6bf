package io.pgfailover.controller.notify;

import io.pgfailover.controller.config.CloudWatchConfig;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.MetricsSink;
import io.pgfailover.controller.port.MetricsSink.Datum;
import io.pgfailover.controller.port.MetricsSink.Unit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the controller's metrics to CloudWatch once per {@code cloudwatch.interval}, in one batch,
 * on a thread of its own. The values are read from {@link Metrics} (what {@code /metrics} shows),
 * never measured twice. The contract the stack's alarms depend on (namespace from the config,
 * dimension {@code Cluster} on every metric):
 *
 * <ul>
 *   <li>by the leading (or only) controller: {@code Healthy} (1/0), {@code ReplicationLagBytes},
 *       {@code StandbyStreaming} (1/0), {@code AlarmsActive} (total; and per {@code Kind}), {@code
 *       Failovers} (promotions in the interval), {@code FailoverPhaseMs} (per {@code Phase}, once
 *       after each failover);
 *   <li>by every controller, with {@code Controller}: {@code Leader} (1/0), {@code Ec2CallErrors}
 *       (in the interval).
 * </ul>
 */
public final class CloudWatchPublisher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CloudWatchPublisher.class);
  private static final Pattern LABEL = Pattern.compile("[a-z_]+=\"([^\"]*)\"");

  private final CloudWatchConfig config;
  private final MetricsSink sink;
  private final Metrics metrics;
  private final String cluster;
  private final String controller;
  private final ScheduledExecutorService timer;
  private long failoversSent;
  private long ec2ErrorsSent;

  public CloudWatchPublisher(
      CloudWatchConfig config,
      MetricsSink sink,
      Metrics metrics,
      String cluster,
      String controller) {
    this.config = config;
    this.sink = sink;
    this.metrics = metrics;
    this.cluster = cluster;
    this.controller = controller;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "cloudwatch");
              t.setDaemon(true);
              return t;
            });
  }

  /** Publishes every interval from now on, the first batch one interval from now. */
  public CloudWatchPublisher start() {
    long ms = config.interval().toMillis();
    timer.scheduleAtFixedRate(this::publishOnce, ms, ms, TimeUnit.MILLISECONDS);
    return this;
  }

  /** One batch; a failure is logged and counted, the next interval sends fresh values. */
  void publishOnce() {
    List<Datum> batch = batch();
    if (batch.isEmpty()) {
      return;
    }
    try {
      sink.put(config.namespace(), batch);
      log.debug("event=cloudwatch_published data={}", batch.size());
    } catch (MetricsSink.Unavailable e) {
      log.warn(
          "event=cloudwatch_publish_failed namespace={} data={} error={}",
          config.namespace(),
          batch.size(),
          LogText.quoted(String.valueOf(e.getMessage())));
      metrics.count(
          "pgfailover_cloudwatch_failures_total", "CloudWatch batches that were not accepted.", "");
    } catch (RuntimeException e) {
      // A bug must not end the timer: scheduleAtFixedRate stops after an exception.
      log.error("event=cloudwatch_bug error={}", LogText.quoted(e.toString()), e);
    }
  }

  /** This interval's data; empty before the first loop said who leads. */
  List<Datum> batch() {
    Double leader = metrics.gauges("pgfailover_leader").get("");
    if (leader == null) {
      return List.of();
    }
    List<Datum> out = new ArrayList<>();
    Map<String, String> self = Map.of("Cluster", cluster, "Controller", controller);
    out.add(new Datum("Leader", ordered(self), leader, Unit.NONE));
    long ec2Errors = sum(metrics.counters("pgfailover_ec2_call_errors_total"));
    out.add(new Datum("Ec2CallErrors", ordered(self), ec2Errors - ec2ErrorsSent, Unit.COUNT));
    ec2ErrorsSent = ec2Errors;
    long failovers = sum(metrics.counters("pgfailover_failovers_total"));
    long newFailovers = failovers - failoversSent;
    failoversSent = failovers;
    if (leader < 1) {
      return out;
    }
    Map<String, String> c = Map.of("Cluster", cluster);
    gauge("pgfailover_healthy", "").ifPresent(v -> out.add(new Datum("Healthy", c, v, Unit.NONE)));
    gauge("pgfailover_replication_lag_bytes", "")
        .ifPresent(v -> out.add(new Datum("ReplicationLagBytes", c, v, Unit.BYTES)));
    gauge("pgfailover_standby_streaming", "")
        .ifPresent(v -> out.add(new Datum("StandbyStreaming", c, v, Unit.NONE)));
    Map<String, Double> alarms = metrics.gauges("pgfailover_alarm_active");
    out.add(
        new Datum(
            "AlarmsActive",
            c,
            alarms.values().stream().mapToDouble(Double::doubleValue).sum(),
            Unit.COUNT));
    alarms.forEach(
        (labels, v) ->
            out.add(
                new Datum(
                    "AlarmsActive",
                    ordered(Map.of("Cluster", cluster, "Kind", label(labels))),
                    v,
                    Unit.COUNT)));
    out.add(new Datum("Failovers", c, newFailovers, Unit.COUNT));
    if (newFailovers > 0) {
      metrics
          .gauges("pgfailover_last_failover_phase_ms")
          .forEach(
              (labels, ms) ->
                  out.add(
                      new Datum(
                          "FailoverPhaseMs",
                          ordered(Map.of("Cluster", cluster, "Phase", label(labels))),
                          ms,
                          Unit.MILLISECONDS)));
    }
    return out;
  }

  private java.util.Optional<Double> gauge(String name, String labels) {
    return java.util.Optional.ofNullable(metrics.gauges(name).get(labels));
  }

  /** Cluster first, then the other dimension: the order the stack's alarms name them in. */
  private static Map<String, String> ordered(Map<String, String> dims) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put("Cluster", dims.get("Cluster"));
    dims.forEach(out::putIfAbsent);
    return out;
  }

  private static long sum(Map<String, Long> series) {
    return series.values().stream().mapToLong(Long::longValue).sum();
  }

  /** The value of a series' one label: {@code kind="TWO_PRIMARIES"} → TWO_PRIMARIES. */
  private static String label(String labels) {
    Matcher m = LABEL.matcher(labels);
    return m.find() ? m.group(1) : labels;
  }

  @Override
  public void close() {
    timer.shutdownNow();
  }
}
