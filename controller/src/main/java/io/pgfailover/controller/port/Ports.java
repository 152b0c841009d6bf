package io.pgfailover.controller.port;

import java.util.Optional;

/**
 * The edges one control loop acts through: PostgreSQL, the virtual IP's routes, fencing, the node
 * agents, and the peer AZ's NAT egress when this loop watches it.
 *
 * @param agents the node agents ({@link NodeAgents#none()} when no node has one)
 * @param natEgress empty when this loop does not watch the peer NAT (no {@code nat:} block, or a
 *     one-shot operator command)
 */
public record Ports(
    PostgresNodes postgres,
    VirtualIpRoutes routes,
    Fencer fencer,
    NodeAgents agents,
    Optional<NatEgress> natEgress) {

  /** The database and route edges alone. */
  public static Ports of(PostgresNodes postgres, VirtualIpRoutes routes, Fencer fencer) {
    return new Ports(postgres, routes, fencer, NodeAgents.none(), Optional.empty());
  }

  public Ports withAgents(NodeAgents agents) {
    return new Ports(postgres, routes, fencer, agents, natEgress);
  }

  public Ports withoutNat() {
    return new Ports(postgres, routes, fencer, agents, Optional.empty());
  }
}
