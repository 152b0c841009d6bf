package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.Ec2Discovery;
import io.pgfailover.aws.InstanceInfo;
import io.pgfailover.aws.RouteState;
import io.pgfailover.aws.RouteTables;
import io.pgfailover.aws.RouteTarget;
import io.pgfailover.controller.config.NatConfig;
import io.pgfailover.controller.port.NatEgress;
import io.pgfailover.controller.port.StepResult;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link NatEgress} over aws-adapter: DescribeInstances for the peer, the route switch for {@code
 * 0.0.0.0/0}.
 */
final class Ec2NatEgress implements NatEgress {
  private static final Logger log = LoggerFactory.getLogger(Ec2NatEgress.class);
  static final String DEFAULT_ROUTE = "0.0.0.0/0";

  /** EC2 states in which the instance still forwards (or soon will): anything else is gone. */
  private static final Set<String> ALIVE = Set.of("running", "pending");

  private final NatConfig config;
  private final Ec2Discovery discovery;
  private final RouteTables tables;
  private final Duration connectTimeout;

  /** Each NAT instance's primary ENI (fixed for the instance's life), looked up once. */
  private final Map<String, String> eniOf = new ConcurrentHashMap<>();

  Ec2NatEgress(NatConfig config, AwsClients clients, Duration connectTimeout) {
    this.config = config;
    this.discovery = new Ec2Discovery(clients);
    this.tables = new RouteTables(clients);
    this.connectTimeout = connectTimeout;
  }

  @Override
  public PeerHealth checkPeer() {
    InstanceInfo peer;
    try {
      peer = discovery.describeInstance(config.peerInstanceId());
    } catch (AwsCallException e) {
      if (e.kind() == io.pgfailover.aws.AwsError.Kind.VALIDATION) {
        return new PeerHealth(Peer.GONE, "instance " + config.peerInstanceId() + " not found");
      }
      return new PeerHealth(
          Peer.UNKNOWN, "cannot describe " + config.peerInstanceId() + ": " + e.kind());
    }
    eniOf.putIfAbsent(peer.instanceId(), peer.primaryEniId());
    if (!ALIVE.contains(peer.state())) {
      return new PeerHealth(Peer.GONE, "instance " + peer.instanceId() + " is " + peer.state());
    }
    if (config.peerHealthCheck().isPresent()) {
      InetSocketAddress at = config.peerHealthCheck().get();
      try (Socket s = new Socket()) {
        s.connect(
            new InetSocketAddress(at.getHostString(), at.getPort()),
            (int) connectTimeout.toMillis());
      } catch (IOException e) {
        return new PeerHealth(
            Peer.GONE,
            "health check "
                + at.getHostString()
                + ":"
                + at.getPort()
                + " failed: "
                + e.getMessage());
      }
    }
    return new PeerHealth(Peer.HEALTHY, "instance " + peer.instanceId() + " is " + peer.state());
  }

  @Override
  public Holder egressHolder() {
    Optional<String> self = eni(config.instanceId());
    Optional<String> peer = eni(config.peerInstanceId());
    if (self.isEmpty()) {
      return Holder.UNKNOWN;
    }
    Collection<RouteState> routes;
    try {
      routes = tables.readRoutes(DEFAULT_ROUTE, config.peerRouteTables()).values();
    } catch (AwsCallException e) {
      log.warn("event=egress_route_read_failed kind={} error=\"{}\"", e.kind(), e.getMessage());
      return Holder.UNKNOWN;
    }
    if (routes.stream().allMatch(r -> points(r, self.get()))) {
      return Holder.SELF;
    }
    if (peer.isPresent() && routes.stream().allMatch(r -> points(r, peer.get()))) {
      return Holder.PEER;
    }
    return Holder.MIXED;
  }

  @Override
  public StepResult pointEgressAt(Holder to) {
    String instance = to == Holder.SELF ? config.instanceId() : config.peerInstanceId();
    Optional<String> eni = eni(instance);
    if (eni.isEmpty()) {
      return StepResult.failed("cannot find the primary ENI of " + instance, Map.of());
    }
    return Ec2Routes.result(
        tables.pointRoute(
            DEFAULT_ROUTE,
            config.peerRouteTables(),
            RouteTarget.networkInterface(eni.get()),
            false));
  }

  private static boolean points(RouteState r, String eni) {
    return r.target().filter(t -> t.id().equals(eni)).isPresent();
  }

  private Optional<String> eni(String instanceId) {
    String known = eniOf.get(instanceId);
    if (known != null) {
      return Optional.of(known);
    }
    try {
      String eni = discovery.describeInstance(instanceId).primaryEniId();
      eniOf.put(instanceId, eni);
      return Optional.of(eni);
    } catch (AwsCallException e) {
      return Optional.empty();
    }
  }
}
