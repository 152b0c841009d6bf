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

  /** A gauge that no longer has a value (a lag without a primary to measure it from). */
  public void remove(String name, String labels) {
    gauges.remove(key(name, labels));
  }

  /** Every series of one counter, by its labels ({@code ""} for none): what CloudWatch is sent. */
  public Map<String, Long> counters(String name) {
    Map<String, Long> out = new TreeMap<>();
    counters.forEach((k, v) -> labels(name, k).ifPresent(l -> out.put(l, v.get())));
    return out;
  }

  /** Every series of one gauge, by its labels ({@code ""} for none). */
  public Map<String, Double> gauges(String name) {
    Map<String, Double> out = new TreeMap<>();
    gauges.forEach((k, v) -> labels(name, k).ifPresent(l -> out.put(l, v)));
    return out;
  }

  private static java.util.Optional<String> labels(String name, String key) {
    if (key.equals(name)) {
      return java.util.Optional.of("");
    }
    return key.startsWith(name + "{")
        ? java.util.Optional.of(key.substring(name.length() + 1, key.length() - 1))
        : java.util.Optional.empty();
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
