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
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.port.Fencer;
import io.pgfailover.controller.port.LeaseStore;
import io.pgfailover.controller.port.NatEgress;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.VirtualIpRoutes;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/** Builds the production {@link Backends}: pg-probe for PostgreSQL, aws-adapter for EC2. */
public final class Wiring {
  private Wiring() {}

  /**
   * Credentials from the default provider chain: the instance profile on EC2, the environment
   * elsewhere.
   */
  public static Backends connect(ControllerConfig config) {
    return connect(config, Optional.empty());
  }

  /**
   * As {@link #connect(ControllerConfig)}, with explicit credentials (tests against an emulator).
   */
  public static Backends connect(
      ControllerConfig config, Optional<AwsCredentialsProvider> credentials) {
    return connect(config, credentials, List.of());
  }

  /**
   * As above, with SDK interceptors on every AWS client (tests count the mutating calls this way).
   */
  public static Backends connect(
      ControllerConfig config,
      Optional<AwsCredentialsProvider> credentials,
      List<ExecutionInterceptor> interceptors) {
    AwsSettings settings = AwsSettings.defaults(config.aws().region());
    if (config.aws().endpoint().isPresent()) {
      settings = settings.withEndpoint(config.aws().endpoint().get());
    }
    AwsClients.Builder builder = AwsClients.builder(settings);
    credentials.ifPresent(builder::credentialsProvider);
    interceptors.forEach(builder::addInterceptor);
    AwsClients clients = builder.build();
    PgProbeNodes nodes = new PgProbeNodes(config);
    Ec2Routes routes = new Ec2Routes(config, clients);
    Ec2Fencer fencer = new Ec2Fencer(clients);
    Optional<LeaseStore> lease =
        config.lease().map(l -> new DynamoLeases(clients, config.cluster(), l));
    Optional<NatEgress> nat =
        config.nat().map(n -> new Ec2NatEgress(n, clients, config.probe().timeout()));
    return new Backends() {
      @Override
      public Optional<LeaseStore> leaseStore() {
        return lease;
      }

      @Override
      public Optional<NatEgress> natEgress() {
        return nat;
      }

      @Override
      public PostgresNodes postgres() {
        return nodes;
      }

      @Override
      public VirtualIpRoutes routeTables() {
        return routes;
      }

      @Override
      public Fencer fencer() {
        return fencer;
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

  /** The loop's place in the pair: a lease on the backends' store, or single-controller mode. */
  public static Leadership leadership(ControllerConfig config, Backends backends, EventLog events) {
    return config.lease().isPresent() && backends.leaseStore().isPresent()
        ? Leadership.of(config.lease().get(), backends.leaseStore().get(), System::nanoTime, events)
        : Leadership.single();
  }

  private static Backends.Check check(Finding f) {
    return new Backends.Check(
        Backends.Check.Severity.valueOf(f.severity().name()),
        f.subject(),
        f.message(),
        f.fix().orElse(""));
  }
}
