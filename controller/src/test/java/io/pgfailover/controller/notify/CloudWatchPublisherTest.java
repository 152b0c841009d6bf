package io.pgfailover.controller.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.controller.config.CloudWatchConfig;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.MetricsSink.Datum;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CloudWatch contract the stack's alarms depend on, read from {@link Metrics}. */
class CloudWatchPublisherTest {
  static final CloudWatchConfig CONFIG = new CloudWatchConfig("PgFailover", Duration.ofSeconds(60));

  static List<String> render(List<Datum> batch) {
    return batch.stream()
        .map(d -> d.name() + d.dimensions() + "=" + d.value() + " " + d.unit())
        .toList();
  }

  @Test
  void theLeaderSendsTheClusterMetricsAndFailoverPhasesOnceAfterAFailover() {
    Metrics m = new Metrics();
    CloudWatchPublisher p = new CloudWatchPublisher(CONFIG, (ns, data) -> {}, m, "c", "nat-a");
    assertEquals(List.of(), p.batch(), "nothing before the first loop said who leads");
    m.gauge("pgfailover_leader", "", "", 1);
    m.gauge("pgfailover_healthy", "", "", 1);
    m.gauge("pgfailover_replication_lag_bytes", "", "", 4096);
    m.gauge("pgfailover_standby_streaming", "", "", 1);
    m.gauge("pgfailover_alarm_active", "", "kind=\"NO_PRIMARY\"", 0);
    m.gauge("pgfailover_alarm_active", "", "kind=\"TWO_PRIMARIES\"", 1);
    m.count("pgfailover_ec2_call_errors_total", "", "");
    m.count("pgfailover_failovers_total", "", "kind=\"failover\"");
    m.gauge("pgfailover_last_failover_phase_ms", "", "phase=\"promoted\"", 120);
    m.gauge("pgfailover_last_failover_phase_ms", "", "phase=\"verified\"", 480);
    assertEquals(
        List.of(
            "Leader{Cluster=c, Controller=nat-a}=1.0 NONE",
            "Ec2CallErrors{Cluster=c, Controller=nat-a}=1.0 COUNT",
            "Healthy{Cluster=c}=1.0 NONE",
            "ReplicationLagBytes{Cluster=c}=4096.0 BYTES",
            "StandbyStreaming{Cluster=c}=1.0 NONE",
            "AlarmsActive{Cluster=c}=1.0 COUNT",
            "AlarmsActive{Cluster=c, Kind=NO_PRIMARY}=0.0 COUNT",
            "AlarmsActive{Cluster=c, Kind=TWO_PRIMARIES}=1.0 COUNT",
            "Failovers{Cluster=c}=1.0 COUNT",
            "FailoverPhaseMs{Cluster=c, Phase=promoted}=120.0 MILLISECONDS",
            "FailoverPhaseMs{Cluster=c, Phase=verified}=480.0 MILLISECONDS"),
        render(p.batch()));
    List<String> next = render(p.batch());
    assertEquals("Ec2CallErrors{Cluster=c, Controller=nat-a}=0.0 COUNT", next.get(1));
    assertEquals(
        "Failovers{Cluster=c}=0.0 COUNT", next.get(next.size() - 1), "counts per interval");
  }

  @Test
  void aFollowerSendsOnlyItsOwnMetrics() {
    Metrics m = new Metrics();
    m.gauge("pgfailover_leader", "", "", 0);
    m.gauge("pgfailover_healthy", "", "", 1);
    assertEquals(
        List.of(
            "Leader{Cluster=c, Controller=nat-b}=0.0 NONE",
            "Ec2CallErrors{Cluster=c, Controller=nat-b}=0.0 COUNT"),
        render(new CloudWatchPublisher(CONFIG, (ns, data) -> {}, m, "c", "nat-b").batch()));
  }
}
