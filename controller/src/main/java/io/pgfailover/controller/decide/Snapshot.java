package io.pgfailover.controller.decide;

import io.pgfailover.controller.port.NodeAgents;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one loop observed: each node's probe, each route table's virtual-IP target, and what
 * each node's agent answered (nodes without an agent are absent).
 *
 * @param at when observing began: before any probe was sent
 * @param observedUntil when the last probe and the last agent's answer were in: a probe that waited
 *     out its timeout shows the node silent from {@code at} until about then, and every agent's
 *     ages were measured no later than then
 */
public record Snapshot(
    Instant at,
    Instant observedUntil,
    Map<String, NodeObservation> nodes,
    List<VirtualIpRoute> routes,
    Map<String, NodeAgents.Reply<NodeAgents.Facts>> agents) {
  public Snapshot {
    if (observedUntil.isBefore(at)) {
      throw new IllegalArgumentException("observedUntil " + observedUntil + " is before " + at);
    }
    nodes = Map.copyOf(nodes);
    routes = List.copyOf(routes);
    agents = Map.copyOf(agents);
  }

  /** Observed in an instant (tests). */
  public Snapshot(
      Instant at,
      Map<String, NodeObservation> nodes,
      List<VirtualIpRoute> routes,
      Map<String, NodeAgents.Reply<NodeAgents.Facts>> agents) {
    this(at, at, nodes, routes, agents);
  }

  /** Without agents. */
  public Snapshot(Instant at, Map<String, NodeObservation> nodes, List<VirtualIpRoute> routes) {
    this(at, nodes, routes, Map.of());
  }

  public Optional<NodeObservation> node(String name) {
    return Optional.ofNullable(nodes.get(name));
  }

  /** The node's agent's facts, when it has an agent and the agent answered. */
  public Optional<NodeAgents.Facts> facts(String name) {
    return Optional.ofNullable(agents.get(name)).flatMap(NodeAgents.Reply::value);
  }
}
