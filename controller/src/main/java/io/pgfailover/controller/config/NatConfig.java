package io.pgfailover.controller.config;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * NAT egress failover: this controller's own NAT instance, and the peer NAT instance whose AZ's
 * private route tables it takes over (their {@code 0.0.0.0/0} route) while the peer is gone.
 *
 * @param instanceId this controller's NAT instance: the target the peer AZ's default routes move to
 * @param peerInstanceId the peer NAT instance, the normal target of {@code peerRouteTables}
 * @param peerRouteTables the peer AZ's private route tables
 * @param peerHealthCheck optional host:port on the peer that must accept a TCP connection (catches
 *     an AZ cut off while EC2 still says running); without it only the instance state counts
 * @param failureThreshold consecutive failed checks before the peer counts as gone
 * @param failback point the peer AZ's routes back at the peer once it is healthy again
 */
public record NatConfig(
    String instanceId,
    String peerInstanceId,
    List<String> peerRouteTables,
    Optional<InetSocketAddress> peerHealthCheck,
    int failureThreshold,
    boolean failback) {
  public static final int DEFAULT_FAILURE_THRESHOLD = 3;

  public NatConfig {
    peerRouteTables = List.copyOf(peerRouteTables);
  }
}
