package io.pgfailover.controller.notify;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;

/**
 * Which events of the history an operator is told about, and what they are called then: a pure
 * function of one history event. The history keeps its own names (status, bench and tests read
 * them); a notification carries both.
 *
 * <table>
 *   <tr><th>history event</th><th>notable event</th><th>NODE</th><th>ROLE</th></tr>
 *   <tr><td>failover_started</td><td>failover_started (switchover: none)</td><td>to</td>
 *       <td>primary</td></tr>
 *   <tr><td>failover_timeline</td><td>failover_finished / failover_failed / switchover</td>
 *       <td>to</td><td>primary</td></tr>
 *   <tr><td>rejoin_started / _finished / _failed</td><td>the same</td><td>node</td>
 *       <td>standby</td></tr>
 *   <tr><td>alarm (state raised) / alarm_cleared</td><td>alarm_raised / alarm_cleared</td>
 *       <td>controller</td><td>controller</td></tr>
 *   <tr><td>lease_acquired / lease_lost, lease_lapsed</td><td>lease_acquired / lease_lost</td>
 *       <td>controller</td><td>leader / follower</td></tr>
 *   <tr><td>controller_started / controller_stopping</td><td>the same</td><td>controller</td>
 *       <td>controller</td></tr>
 * </table>
 */
public final class Notable {
  private Notable() {}

  /**
   * The notification for {@code e}, if it is notable.
   *
   * @param controller this controller's name: NODE for events about the controller itself
   */
  public static Optional<Notification> of(ObjectNode e, String controller) {
    String name = e.path("event").asText();
    String cluster = e.path("cluster").asText();
    String to = e.path("to").asText();
    String from = e.path("from").asText();
    String node = e.path("node").asText();
    String self = e.path("controller").asText(controller);
    return switch (name) {
      case "failover_started" ->
          "switchover".equals(e.path("kind").asText())
              ? Optional.empty()
              : Optional.of(
                  make(
                      e,
                      NotableEvent.FAILOVER_STARTED,
                      to,
                      "primary",
                      kind(e) + " started: " + from + " -> " + to));
      case "failover_timeline" -> {
        boolean completed = e.path("completed").asBoolean();
        NotableEvent what =
            "switchover".equals(e.path("kind").asText())
                ? NotableEvent.SWITCHOVER
                : completed ? NotableEvent.FAILOVER_FINISHED : NotableEvent.FAILOVER_FAILED;
        String took =
            e.path("phases_ms").has("verified")
                ? " in " + e.path("phases_ms").path("verified").asLong() + " ms"
                : "";
        yield Optional.of(
            make(
                e,
                what,
                to,
                "primary",
                kind(e)
                    + (completed ? " finished: " : " failed: ")
                    + from
                    + " -> "
                    + to
                    + (completed ? took : "")));
      }
      case "rejoin_started", "rejoin_finished", "rejoin_failed" ->
          Optional.of(
              make(
                  e,
                  NotableEvent.valueOf(name.toUpperCase(java.util.Locale.ROOT)),
                  node,
                  "standby",
                  name.replace('_', ' ') + ": " + node));
      case "alarm" ->
          "raised".equals(e.path("state").asText())
              ? Optional.of(
                  make(
                      e,
                      NotableEvent.ALARM_RAISED,
                      controller,
                      "controller",
                      "alarm " + e.path("kind").asText() + ": " + e.path("message").asText()))
              : Optional.empty();
      case "alarm_cleared" ->
          Optional.of(
              make(
                  e,
                  NotableEvent.ALARM_CLEARED,
                  controller,
                  "controller",
                  "alarm cleared: " + e.path("kind").asText()));
      case "lease_acquired" ->
          Optional.of(
              make(
                  e,
                  NotableEvent.LEASE_ACQUIRED,
                  self,
                  "leader",
                  self + " leads (lease token " + e.path("token").asText() + ")"));
      case "lease_lost", "lease_lapsed" ->
          Optional.of(
              make(
                  e,
                  NotableEvent.LEASE_LOST,
                  self,
                  "follower",
                  self + " lost the lease: " + e.path("why").asText()));
      case "controller_started", "controller_stopping" ->
          Optional.of(
              make(
                  e,
                  NotableEvent.valueOf(name.toUpperCase(java.util.Locale.ROOT)),
                  controller,
                  "controller",
                  "controller "
                      + controller
                      + (name.endsWith("started") ? " started" : " stopping")));
      default -> Optional.empty();
    };
  }

  private static String kind(JsonNode e) {
    return e.path("kind").asText("failover").replace('_', ' ');
  }

  /** SNS takes a subject of up to 100 printable ASCII characters. */
  static final int MAX_SUBJECT = 100;

  private static Notification make(
      ObjectNode e, NotableEvent what, String node, String role, String says) {
    String cluster = e.path("cluster").asText();
    ObjectNode json = e.deepCopy();
    json.put("event", what.text());
    json.put("history_event", e.path("event").asText());
    json.put("node", node);
    json.put("role", role);
    String subject = ("pgfailover " + cluster + ": " + says).replaceAll("[^\\x20-\\x7e]", "?");
    if (subject.length() > MAX_SUBJECT) {
      subject = subject.substring(0, MAX_SUBJECT - 3) + "...";
    }
    return new Notification(what, node, role, cluster, subject, json.toString());
  }
}
