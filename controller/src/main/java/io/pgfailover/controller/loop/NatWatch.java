package io.pgfailover.controller.loop;

import io.pgfailover.controller.config.NatConfig;
import io.pgfailover.controller.decide.Action;
import io.pgfailover.controller.port.NatEgress.Holder;
import io.pgfailover.controller.port.NatEgress.Peer;
import io.pgfailover.controller.port.NatEgress.PeerHealth;
import java.util.Optional;

/**
 * The old nat_monitor's job, as a small state machine fed once per loop: the peer NAT must fail
 * {@code failureThreshold} checks in a row before its AZ's default routes move to this controller's
 * NAT, and pass as many in a row before they move back (with {@code failback}). An unknown check
 * (EC2 unreadable) counts neither way, and nothing moves while the routes cannot be read.
 *
 * <p>Not lease-gated: each controller only ever writes its <em>peer's</em> AZ tables, so two
 * controllers never write the same route, and egress must move even while the lease store is down.
 */
final class NatWatch {
  private final NatConfig config;
  private int failures;
  private int successes;

  NatWatch(NatConfig config) {
    this.config = config;
  }

  Optional<Action.PointEgressRoutes> next(PeerHealth health, Holder holder) {
    if (health.state() == Peer.GONE) {
      failures++;
      successes = 0;
    } else if (health.state() == Peer.HEALTHY) {
      successes++;
      failures = 0;
    }
    if (holder == Holder.UNKNOWN) {
      return Optional.empty();
    }
    if (failures >= config.failureThreshold() && holder != Holder.SELF) {
      return Optional.of(
          new Action.PointEgressRoutes(
              Holder.SELF,
              config.instanceId(),
              "peer NAT "
                  + config.peerInstanceId()
                  + " failed "
                  + failures
                  + " checks: "
                  + health.detail()));
    }
    if (config.failback() && successes >= config.failureThreshold() && holder == Holder.SELF) {
      return Optional.of(
          new Action.PointEgressRoutes(
              Holder.PEER,
              config.peerInstanceId(),
              "peer NAT " + config.peerInstanceId() + " healthy for " + successes + " checks"));
    }
    return Optional.empty();
  }
}
