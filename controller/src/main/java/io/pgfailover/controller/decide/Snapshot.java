package io.pgfailover.controller.decide;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Everything one loop observed: each node's probe and each route table's virtual-IP target. */
public record Snapshot(
    Instant at, Map<String, NodeObservation> nodes, List<VirtualIpRoute> routes) {
  public Snapshot {
    nodes = Map.copyOf(nodes);
    routes = List.copyOf(routes);
  }

  public Optional<NodeObservation> node(String name) {
    return Optional.ofNullable(nodes.get(name));
  }
}
