package io.pgfailover.controller.port;

/**
 * NAT egress of the peer AZ: the peer NAT instance's health and its AZ's private route tables'
 * {@code 0.0.0.0/0} routes. Implemented over aws-adapter with the same route-switching code as the
 * virtual IP.
 *
 * <p>Contract: no method throws for an AWS or network failure; what cannot be read is {@code
 * UNKNOWN}, and the controller never moves a route on an unknown.
 */
public interface NatEgress {
  /**
   * The peer NAT instance: running and (if configured) answering, gone, or not known (EC2
   * unreadable).
   */
  enum Peer {
    HEALTHY,
    GONE,
    UNKNOWN
  }

  /**
   * Where the peer AZ's default routes point: all at the peer, all at this controller's NAT, else.
   */
  enum Holder {
    PEER,
    SELF,
    MIXED,
    UNKNOWN
  }

  record PeerHealth(Peer state, String detail) {}

  /** One bounded check of the peer (DescribeInstances, then a TCP connect when configured). */
  PeerHealth checkPeer();

  /** Reads the peer AZ's tables' default routes. */
  Holder egressHolder();

  /**
   * Point every peer-AZ table's {@code 0.0.0.0/0} route at {@code SELF} or {@code PEER} (its
   * primary ENI): tables already right are not written, the rest replaced, all read back.
   * Idempotent.
   */
  StepResult pointEgressAt(Holder to);
}
