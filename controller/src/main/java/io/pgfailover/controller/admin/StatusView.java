package io.pgfailover.controller.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Step;
import io.pgfailover.controller.port.NodeAgents;
import java.util.List;
import java.util.Locale;

/**
 * The status document ({@code GET /status}, {@code failoverctl status --json}) and its human table.
 */
public final class StatusView {
  public static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
          .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private StatusView() {}

  public static ObjectNode toJson(
      ControllerConfig config, LoopReport r, List<JsonNode> recentEvents) {
    return toJson(
        config, r, recentEvents, io.pgfailover.controller.lease.Leadership.single().view());
  }

  /**
   * With this controller's place in the pair: LEADER, FOLLOWER, UNKNOWN (lease store unreachable)
   * or SINGLE.
   */
  public static ObjectNode toJson(
      ControllerConfig config,
      LoopReport r,
      List<JsonNode> recentEvents,
      io.pgfailover.controller.lease.Leadership.View leadership) {
    ObjectNode root = JSON.createObjectNode();
    root.put("cluster", config.cluster());
    root.put("at", r.at().toString());
    root.put("reason", r.decision().reason().name());
    root.put("message", r.decision().message());
    root.put("virtual_ip", config.virtualIp());
    root.set("actions_taken", JSON.valueToTree(r.steps().stream().map(Step::toString).toList()));
    ObjectNode lease = root.putObject("controller");
    lease.put("role", leadership.role().name());
    lease.put("id", leadership.me());
    leadership.holder().ifPresent(h -> lease.put("leader", h));
    lease.put("fencing_token", leadership.token());
    lease.put("detail", leadership.detail());
    ArrayNode nodes = root.putArray("nodes");
    for (NodeConfig n : config.nodes()) {
      ObjectNode j = nodes.addObject();
      j.put("name", n.name());
      j.put("host", n.host());
      j.put("port", n.port());
      j.put("instance_id", n.instanceId());
      j.put("eni_id", n.eniId());
      NodeObservation o = r.snapshot().nodes().get(n.name());
      j.put("reachable", o != null && o.reachable());
      j.put("role", o == null ? "UNKNOWN" : o.role().name());
      if (o != null) {
        o.failure().ifPresent(f -> j.put("failure", NodeObservation.text(f)));
        o.timeline().ifPresent(t -> j.put("timeline", t));
        o.walPosition().ifPresent(p -> j.put("wal_position", lsn(p)));
        o.writable().ifPresent(w -> j.put("writable", w));
        o.witness()
            .ifPresent(
                w -> {
                  ObjectNode wj = j.putObject("wal_receiver");
                  wj.put("streaming", w.streaming());
                  wj.put("sender", w.senderHost() + ":" + w.senderPort());
                  wj.put("last_message_ms_ago", w.sinceLastMessage().toMillis());
                });
      }
      j.put("consecutive_failures", r.failures().getOrDefault(n.name(), 0));
      if (o != null && !o.synchronousStandbyNames().isEmpty()) {
        j.put("synchronous_standby_names", o.synchronousStandbyNames());
      }
      if (o != null && !o.replicas().isEmpty()) {
        ArrayNode rj = j.putArray("replicas");
        o.replicas()
            .forEach(
                x ->
                    rj.addObject()
                        .put("name", x.applicationName())
                        .put("state", x.state())
                        .put("sync_state", x.syncState()));
      }
      NodeAgents.Reply<NodeAgents.Facts> agent = r.snapshot().agents().get(n.name());
      if (agent != null) {
        ObjectNode aj = j.putObject("agent");
        aj.put("answers", agent.ok());
        agent.failure().ifPresent(f -> aj.put("failure", f));
        agent
            .value()
            .ifPresent(
                f -> {
                  aj.put("postmaster_running", f.postmasterRunning());
                  NodeAgents.Rejoin rejoin = f.rejoin();
                  ObjectNode rj = aj.putObject("rejoin");
                  rj.put("state", rejoin.state().name());
                  rejoin.source().ifPresent(x -> rj.put("source", x));
                  rj.put("method", rejoin.method().name());
                  rejoin.finishedAt().ifPresent(x -> rj.put("finished_at", x.toString()));
                  rejoin.error().ifPresent(x -> rj.put("error", x));
                });
      }
    }
    ArrayNode routes = root.putArray("route_tables");
    for (VirtualIpRoute rs : r.snapshot().routes()) {
      ObjectNode j = routes.addObject();
      j.put("route_table", rs.routeTable());
      j.put("status", rs.status().name());
      rs.target()
          .ifPresent(
              t -> {
                j.put("target", t);
                config.nodeByTarget(t).ifPresent(n -> j.put("node", n.name()));
              });
    }
    r.timeline().ifPresent(t -> root.set("last_failover", JSON.valueToTree(t)));
    ArrayNode ev = root.putArray("recent_events");
    recentEvents.forEach(ev::add);
    return root;
  }

  /** The human table of {@code failoverctl status}. */
  public static String render(JsonNode s) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "cluster %s   virtual IP %s   at %s%n",
            s.path("cluster").asText(),
            s.path("virtual_ip").asText(),
            s.path("at").asText()));
    out.append(
        String.format(
            Locale.ROOT, "%s: %s%n", s.path("reason").asText(), s.path("message").asText()));
    JsonNode ctl = s.path("controller");
    if (!ctl.isMissingNode() && !"SINGLE".equals(ctl.path("role").asText())) {
      out.append(
          String.format(
              Locale.ROOT,
              "controller %s: %s (leader %s, fencing token %d) %s%n",
              ctl.path("id").asText(),
              ctl.path("role").asText(),
              ctl.path("leader").asText("none"),
              ctl.path("fencing_token").asLong(),
              ctl.path("detail").asText()));
    }
    for (JsonNode step : s.path("actions_taken")) {
      out.append("  done: ").append(step.asText()).append('\n');
    }
    out.append('\n');
    out.append(
        String.format(
            Locale.ROOT,
            "%-10s %-9s %-8s %-4s %-14s %-20s %s%n",
            "NODE",
            "ROLE",
            "STATE",
            "TL",
            "WAL",
            "ENI",
            "NOTE"));
    for (JsonNode n : s.path("nodes")) {
      String note =
          n.has("failure")
              ? n.path("failure").asText()
                  + ", "
                  + n.path("consecutive_failures").asInt()
                  + " failed probe(s)"
              : "";
      if (n.has("wal_receiver")) {
        JsonNode w = n.path("wal_receiver");
        note =
            (w.path("streaming").asBoolean() ? "streaming from " : "not streaming, last ")
                + w.path("sender").asText()
                + ", heard "
                + w.path("last_message_ms_ago").asLong()
                + " ms ago";
      }
      if (n.has("writable") && !n.path("writable").asBoolean()) {
        note = "NOT WRITABLE " + note;
      }
      JsonNode agent = n.path("agent");
      if (!agent.isMissingNode()) {
        String state = agent.path("rejoin").path("state").asText("");
        note +=
            !agent.path("answers").asBoolean()
                ? "; agent: NO ANSWER"
                : state.isEmpty() || state.equals("IDLE") || state.equals("DONE")
                    ? ""
                    : "; rejoin: "
                        + state
                        + agent
                            .path("rejoin")
                            .path("error")
                            .asText("")
                            .transform(e -> e.isEmpty() ? "" : " (" + e + ")");
      }
      out.append(
          String.format(
              Locale.ROOT,
              "%-10s %-9s %-8s %-4s %-14s %-20s %s%n",
              n.path("name").asText(),
              n.path("role").asText(),
              n.path("reachable").asBoolean() ? "up" : "DOWN",
              n.path("timeline").asText("-"),
              n.path("wal_position").asText("-"),
              n.path("eni_id").asText(),
              note));
    }
    out.append(
        String.format(
            Locale.ROOT, "%n%-24s %-10s %s%n", "ROUTE TABLE", "STATUS", "VIRTUAL IP -> "));
    for (JsonNode t : s.path("route_tables")) {
      out.append(
          String.format(
              Locale.ROOT,
              "%-24s %-10s %s%n",
              t.path("route_table").asText(),
              t.path("status").asText(),
              t.has("target")
                  ? t.path("target").asText()
                      + (t.has("node")
                          ? " (" + t.path("node").asText() + ")"
                          : " (not a configured node)")
                  : "-"));
    }
    if (s.has("last_failover")) {
      JsonNode f = s.path("last_failover");
      out.append(
          String.format(
              Locale.ROOT,
              "%nlast failover: %s %s -> %s completed=%s %s%n",
              f.path("kind").asText(),
              f.path("from").asText(),
              f.path("to").asText(),
              f.path("completed").asText(),
              f.path("phasesMs").toString()));
    }
    if (s.path("recent_events").size() > 0) {
      out.append("\nrecent events:\n");
      for (JsonNode e : s.path("recent_events")) {
        out.append("  ")
            .append(e.path("ts").asText())
            .append(' ')
            .append(e.path("event").asText())
            .append(' ')
            .append(describeEvent(e))
            .append('\n');
      }
    }
    return out.toString();
  }

  private static String describeEvent(JsonNode e) {
    if (e.has("message")) {
      return e.path("message").asText();
    }
    if (e.has("action")) {
      return e.path("action").asText()
          + " "
          + e.path("node").asText("")
          + (e.has("ok") ? " ok=" + e.path("ok").asText() : "")
          + (e.has("detail") ? " " + e.path("detail").asText() : "");
    }
    if (e.has("phases_ms")) {
      return e.path("from").asText()
          + " -> "
          + e.path("to").asText()
          + " completed="
          + e.path("completed").asText()
          + " "
          + e.path("phases_ms");
    }
    if (e.has("to")) { // failover_started
      return e.path("kind").asText()
          + " "
          + e.path("from").asText()
          + " -> "
          + e.path("to").asText();
    }
    if (e.has("channel")) { // notification_dropped
      return e.path("channel").asText()
          + " "
          + e.path("count").asText()
          + " "
          + e.path("why").asText();
    }
    return e.has("kind") ? e.path("kind").asText() : "";
  }

  public static String lsn(long v) {
    return String.format(Locale.ROOT, "%X/%X", v >>> 32, v & 0xFFFFFFFFL);
  }
}
