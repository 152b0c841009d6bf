package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.AwsSettings;
import io.pgfailover.aws.Finding;
import io.pgfailover.aws.Preflight;
import io.pgfailover.aws.RouteTarget;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.port.LeaseStore;
import io.pgfailover.controller.port.MetricsSink;
import io.pgfailover.controller.port.NatEgress;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.NotificationTopic;
import io.pgfailover.controller.port.Ports;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/** Builds the production {@link Backends}: pg-probe for PostgreSQL, aws-adapter for EC2. */
public final class Wiring {
  private Wiring() {}

  /**
   * How the AWS clients authenticate, and what observes their calls.
   *
   * @param credentials empty: the default provider chain (the instance profile on EC2, the
   *     environment elsewhere); tests against an emulator give their own
   * @param interceptors SDK interceptors on every AWS client (tests count the mutating calls)
   */
  public record AwsAccess(
      Optional<AwsCredentialsProvider> credentials, List<ExecutionInterceptor> interceptors) {
    public static final AwsAccess DEFAULT_CHAIN = new AwsAccess(Optional.empty(), List.of());

    public static AwsAccess credentials(AwsCredentialsProvider credentials) {
      return new AwsAccess(Optional.of(credentials), List.of());
    }
  }

  /** What a loop serves: the differences between the commands that build one. */
  public enum Purpose {
    /** {@code failoverctl run}: leads or follows in a pair, and watches the peer NAT. */
    DAEMON(true, true),
    /**
     * A direct {@code failover} / {@code switchover} (no daemon): one loop that needs the lease in
     * a pair; the peer NAT is the daemon's business.
     */
    OPERATOR_REQUEST(true, false),
    /** A direct {@code status}: observes and decides, never acts, so no lease and no NAT. */
    STATUS(false, false);

    final boolean leases;
    final boolean watchesNat;

    Purpose(boolean leases, boolean watchesNat) {
      this.leases = leases;
      this.watchesNat = watchesNat;
    }
  }

  /** The production loop for {@code purpose}, over {@code backends}. */
  public static ControlLoop loop(
      ControllerConfig config,
      Backends backends,
      EventLog events,
      Metrics metrics,
      Clock clock,
      Purpose purpose) {
    Ports ports = purpose.watchesNat ? backends.ports() : backends.ports().withoutNat();
    Leadership leadership =
        purpose.leases && config.lease().isPresent() && backends.leaseStore().isPresent()
            ? Leadership.of(config.lease().get(), backends.leaseStore().get(), events)
            : Leadership.single();
    return new ControlLoop(config, ports, events, metrics, clock, leadership);
  }

  /** The production backends: pg-probe for PostgreSQL, aws-adapter for AWS. */
  public static Backends connect(ControllerConfig config, AwsAccess access) {
    AwsSettings settings = AwsSettings.defaults(config.aws().region());
    if (config.aws().endpoint().isPresent()) {
      settings = settings.withEndpoint(config.aws().endpoint().get());
    }
    AwsClients.Builder builder = AwsClients.builder(settings);
    access.credentials().ifPresent(builder::credentialsProvider);
    access.interceptors().forEach(builder::addInterceptor);
    AwsClients clients = builder.build();
    PgProbeNodes nodes = new PgProbeNodes(config);
    Ec2Routes routes = new Ec2Routes(config, clients);
    Ec2Fencer fencer = new Ec2Fencer(clients);
    Optional<LeaseStore> lease =
        config.lease().map(l -> new DynamoLeases(clients, config.cluster(), l));
    Optional<NatEgress> nat =
        config.nat().map(n -> new Ec2NatEgress(n, clients, config.probe().timeout()));
    NodeAgents agents =
        new HttpNodeAgents(
            config.nodes().stream()
                .filter(n -> n.agent().isPresent())
                .map(
                    n ->
                        new HttpNodeAgents.Target(
                            n.name(), n.agent().get().url(), n.agent().get().tokenFile()))
                .toList(),
            new HttpNodeAgents.Timeouts(
                HttpNodeAgents.Timeouts.defaults().connect(),
                // Facts are read beside the probes, every loop: the probe's deadline bounds them.
                config.probe().timeout(),
                HttpNodeAgents.Timeouts.defaults().rejoin(),
                HttpNodeAgents.Timeouts.defaults().action()));
    Ports ports = new Ports(nodes, routes, fencer, agents, nat);
    Optional<NotificationTopic> topic =
        config.notifications().snsTopicArn().map(arn -> new SnsNotificationTopic(clients, arn));
    Optional<MetricsSink> sink =
        config.cloudWatch().map(c -> new CloudWatchSink(clients, Clock.systemUTC()));
    return new Backends() {
      @Override
      public Optional<NotificationTopic> notificationTopic() {
        return topic;
      }

      @Override
      public Optional<MetricsSink> metricsSink() {
        return sink;
      }

      @Override
      public Ports ports() {
        return ports;
      }

      @Override
      public Optional<LeaseStore> leaseStore() {
        return lease;
      }

      @Override
      public List<Check> preflight() {
        List<Check> checks = new ArrayList<>();
        Optional<String> primaryEniId = Optional.empty();
        for (NodeConfig n : config.nodes()) {
          PgProbeNodes.NodePreflight node = nodes.preflight(n);
          checks.addAll(node.checks());
          if (node.primary() && primaryEniId.isEmpty()) {
            primaryEniId = Optional.of(n.eniId());
          }
        }
        Preflight.Request request =
            new Preflight.Request(
                Optional.empty(),
                config.virtualIp(),
                config.routeTables(),
                config.nodes().stream().map(NodeConfig::instanceId).toList(),
                config.createRouteIfMissing(),
                primaryEniId.map(RouteTarget::networkInterface));
        new Preflight(clients).run(request).stream().map(Wiring::check).forEach(checks::add);
        return checks;
      }

      @Override
      public void close() {
        nodes.close();
        clients.close();
      }
    };
  }

  private static Backends.Check check(Finding f) {
    return new Backends.Check(
        Backends.Check.Severity.valueOf(f.severity().name()),
        f.subject(),
        f.message(),
        f.fix().orElse(""));
  }
}
