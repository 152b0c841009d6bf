package io.pgfailover.controller.decide;

import io.pgfailover.controller.port.NodeAgents;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one loop observed: each node's probe, each route table's virtual-IP target, and what
 * each node's agent answered (nodes without an agent are absent).
 */
public record Snapshot(
    Instant at,
    Map<String, NodeObservation> nodes,
    List<VirtualIpRoute> routes,
    Map<String, NodeAgents.Reply<NodeAgents.Facts>> agents) {
  public Snapshot {
    nodes = Map.copyOf(nodes);
    routes = List.copyOf(routes);
    agents = Map.copyOf(agents);
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
