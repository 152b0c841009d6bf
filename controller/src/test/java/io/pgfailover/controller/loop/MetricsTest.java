package io.pgfailover.controller.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void rendersThePrometheusTextFormatWithOneHelpAndTypePerFamily() {
    Metrics m = new Metrics();
    m.count("pgfailover_probes_total", "Probes run, by node.", "node=\"pg-a\"");
    m.count("pgfailover_probes_total", "Probes run, by node.", "node=\"pg-a\"");
    m.count("pgfailover_probes_total", "Probes run, by node.", "node=\"pg-b\"");
    m.gauge("pgfailover_healthy", "1 when healthy.", "", 1);
    assertEquals(
        String.join(
            "\n",
            "# HELP pgfailover_healthy 1 when healthy.",
            "# TYPE pgfailover_healthy gauge",
            "pgfailover_healthy 1.0",
            "# HELP pgfailover_probes_total Probes run, by node.",
            "# TYPE pgfailover_probes_total counter",
            "pgfailover_probes_total{node=\"pg-a\"} 2",
            "pgfailover_probes_total{node=\"pg-b\"} 1",
            ""),
        m.render());
  }
}
