package io.pgfailover.controller.loop;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/** Counters and gauges for {@code GET /metrics}, rendered in the Prometheus text format. */
public final class Metrics {
  private final Map<String, AtomicLong> counters = new ConcurrentHashMap<>();
  private final Map<String, Double> gauges = new ConcurrentHashMap<>();
  private final Map<String, String> help = new ConcurrentHashMap<>();

  public void count(String name, String helpText, String labels) {
    help.putIfAbsent(name, helpText);
    counters.computeIfAbsent(key(name, labels), k -> new AtomicLong()).incrementAndGet();
  }

  public void add(String name, String helpText, String labels, long delta) {
    help.putIfAbsent(name, helpText);
    counters.computeIfAbsent(key(name, labels), k -> new AtomicLong()).addAndGet(delta);
  }

  public void gauge(String name, String helpText, String labels, double value) {
    help.putIfAbsent(name, helpText);
    gauges.put(key(name, labels), value);
  }

  public long counter(String name, String labels) {
    AtomicLong v = counters.get(key(name, labels));
    return v == null ? 0 : v.get();
  }

  public double gaugeValue(String name, String labels) {
    return gauges.getOrDefault(key(name, labels), Double.NaN);
  }

  public String render() {
    StringBuilder out = new StringBuilder();
    Map<String, String> sorted = new TreeMap<>();
    counters.forEach((k, v) -> sorted.put(k, Long.toString(v.get())));
    gauges.forEach((k, v) -> sorted.put(k, Double.toString(v)));
    String lastName = "";
    for (Map.Entry<String, String> e : sorted.entrySet()) {
      String name =
          e.getKey().contains("{") ? e.getKey().substring(0, e.getKey().indexOf('{')) : e.getKey();
      if (!name.equals(lastName)) {
        out.append("# HELP ")
            .append(name)
            .append(' ')
            .append(help.getOrDefault(name, name))
            .append('\n');
        out.append("# TYPE ")
            .append(name)
            .append(' ')
            .append(
                counters.keySet().stream().anyMatch(k -> k.equals(name) || k.startsWith(name + "{"))
                    ? "counter"
                    : "gauge")
            .append('\n');
        lastName = name;
      }
      out.append(e.getKey()).append(' ').append(e.getValue()).append('\n');
    }
    return out.toString();
  }

  private static String key(String name, String labels) {
    return labels == null || labels.isEmpty() ? name : name + "{" + labels + "}";
  }
}
