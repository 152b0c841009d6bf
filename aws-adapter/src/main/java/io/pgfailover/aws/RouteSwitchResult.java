package io.pgfailover.aws;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What {@link RouteTables#pointRoute} did, table by table, in the order the tables were given. */
public record RouteSwitchResult(
    String vipCidr, RouteTarget target, List<TableResult> tables, int apiCalls, Duration elapsed) {

  public enum Outcome {
    /** Already on the target: nothing written. */
    UNCHANGED,
    /** ReplaceRoute moved the route to the target, and reading back confirmed it. */
    REPLACED,
    /**
     * CreateRoute added the missing route (creating was allowed), and reading back confirmed it.
     */
    CREATED,
    /** Reading back found the route off the target after the write; one more write fixed it. */
    REPAIRED,
    /** The table does not point at the target; {@code reason} says why and what to do. */
    FAILED
  }

  /**
   * @param before the route's target before any write (empty: absent, table missing, or not an
   *     ENI/instance)
   * @param after the route's target as last read back
   * @param reason why it failed, or a note (e.g. the route is a blackhole)
   * @param error the AWS error behind a failure, when there was one
   */
  public record TableResult(
      String routeTableId,
      Outcome outcome,
      Optional<RouteTarget> before,
      Optional<RouteTarget> after,
      Optional<String> reason,
      Optional<AwsError> error) {

    public boolean ok() {
      return outcome != Outcome.FAILED;
    }
  }

  public RouteSwitchResult {
    tables = List.copyOf(tables);
  }

  /** Every table now points at the target. */
  public boolean allOk() {
    return tables.stream().allMatch(TableResult::ok);
  }

  public Optional<TableResult> table(String routeTableId) {
    return tables.stream().filter(t -> t.routeTableId().equals(routeTableId)).findFirst();
  }

  public Map<Outcome, Long> counts() {
    Map<Outcome, Long> counts = new EnumMap<>(Outcome.class);
    for (Outcome o : Outcome.values()) {
      counts.put(o, tables.stream().filter(t -> t.outcome() == o).count());
    }
    return counts;
  }

  /**
   * One sentence for the loop's log and status, e.g. "192.168.240.10/32 -> eni-1: 2 replaced, 8
   * unchanged".
   */
  public String summary() {
    StringBuilder text = new StringBuilder(vipCidr).append(" -> ").append(target.id()).append(':');
    String sep = " ";
    for (Map.Entry<Outcome, Long> e : counts().entrySet()) {
      if (e.getValue() > 0) {
        text.append(sep)
            .append(e.getValue())
            .append(' ')
            .append(e.getKey().name().toLowerCase(java.util.Locale.ROOT));
        sep = ", ";
      }
    }
    return text.append(" in ")
        .append(elapsed.toMillis())
        .append(" ms, ")
        .append(apiCalls)
        .append(" API calls")
        .toString();
  }
}
