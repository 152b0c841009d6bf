package io.pgfailover.controller.config;

import java.util.List;
import java.util.Optional;

/**
 * The whole controller configuration: built once by {@link ConfigLoader}, validated, immutable.
 *
 * @param virtualIp the virtual IP as a /32 CIDR outside the VPC's range, e.g. {@code
 *     172.31.255.10/32}
 * @param createRouteIfMissing create the virtual-IP route in a table that lacks it (else that is an
 *     error)
 * @param lease the controller pair's lease; empty in single-controller mode
 * @param nat NAT egress failover for the peer AZ; empty when this controller does not watch a peer
 *     NAT
 * @param eventLog the event history, its rotation and the state files beside it
 * @param notifications who is told about notable events ({@link NotifyConfig#NONE}: nobody)
 * @param cloudWatch CloudWatch metrics; empty: none are sent
 */
public record ControllerConfig(
    String cluster,
    AwsConfig aws,
    String virtualIp,
    List<String> routeTables,
    boolean createRouteIfMissing,
    List<NodeConfig> nodes,
    ProbePolicy probe,
    FailoverPolicy failover,
    AdminConfig admin,
    EventLogConfig eventLog,
    Optional<LeaseConfig> lease,
    Optional<NatConfig> nat,
    RejoinMode rejoin,
    ReplicationPolicy replication,
    NotifyConfig notifications,
    Optional<CloudWatchConfig> cloudWatch) {

  /**
   * Whether the controller brings a node that fell off back as a standby by itself (through its
   * agent), or only says so and waits for {@code failoverctl rejoin}.
   */
  public enum RejoinMode {
    AUTOMATIC,
    MANUAL
  }

  public ControllerConfig {
    routeTables = List.copyOf(routeTables);
    nodes = List.copyOf(nodes);
  }

  /** This controller's name: the lease's, else the host's (as the lease defaults it). */
  public String controllerName() {
    return lease.map(LeaseConfig::controller).orElseGet(ConfigLoader::defaultControllerName);
  }

  public Optional<NodeConfig> node(String name) {
    return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
  }

  /** The node whose ENI (or instance) a route target names, if any. */
  public Optional<NodeConfig> nodeByTarget(String targetId) {
    return nodes.stream()
        .filter(n -> n.eniId().equals(targetId) || n.instanceId().equals(targetId))
        .findFirst();
  }
}
