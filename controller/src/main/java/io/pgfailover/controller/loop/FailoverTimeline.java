package io.pgfailover.controller.loop;

import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The phases of one failover or switchover, each in milliseconds since the failure was first seen
 * ({@code failure_first_seen}) or the operator's request arrived ({@code requested}): then
 * confirmed, fenced, promoted, routes_switched, verified.
 */
public record FailoverTimeline(
    String kind,
    String from,
    String to,
    Instant start,
    Map<String, Long> phasesMs,
    boolean completed) {
  public FailoverTimeline {
    // Phases keep the order they happened in.
    phasesMs = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(phasesMs));
  }

  /** Builder used while the plan runs. */
  static final class Recorder {
    private final String kind;
    private final String from;
    private final String to;
    private final Instant start;
    private final Map<String, Long> phases = new LinkedHashMap<>();

    Recorder(String kind, String from, String to, Instant start) {
      this.kind = kind;
      this.from = from;
      this.to = to;
      this.start = start;
    }

    void mark(String phase, Instant at) {
      phases.put(phase, Math.max(0, Duration.between(start, at).toMillis()));
    }

    FailoverTimeline finish(boolean completed) {
      return new FailoverTimeline(kind, from, to, start, new LinkedHashMap<>(phases), completed);
    }
  }

  /**
   * A one-line human rendering: {@code failure_first_seen=0ms confirmed=2950ms promoted=3120ms
   * ...}.
   */
  public String render() {
    StringBuilder sb = new StringBuilder();
    phasesMs.entrySet().stream()
        .sorted(Map.Entry.comparingByValue())
        .forEach(
            e ->
                sb.append(sb.length() == 0 ? "" : " ")
                    .append(e.getKey())
                    .append('=')
                    .append(e.getValue())
                    .append("ms"));
    return sb.toString();
  }
}
