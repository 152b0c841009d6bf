package io.pgfailover.controller.it;

import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.notify.Notifications;
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.wiring.Wiring;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.lab.Lab;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * One test's world: the real PostgreSQL pair (healthy again before each test), an emulator fixture
 * whose primary instance stands for the pair's current primary, a controller config for both, and
 * the production wiring (pg-probe, aws-adapter) behind a control loop running on its own thread.
 */
final class LabCluster implements AutoCloseable {
  final PostgresPair pair;
  final AwsEmulatorExtension aws;
  final VpcFixture vpc;
  final ControllerConfig config;
  final Path eventLog;
  final Path configFile;
  final Map<String, PgNode> servers = new LinkedHashMap<>();
  final Backends backends;
  final Metrics metrics = new Metrics();

  /** Every AWS request the controller's clients sent, by operation. */
  final Map<String, AtomicInteger> awsCalls = new ConcurrentHashMap<>();

  final Ec2Client ec2;
  private ControlLoop loop;
  private Notifications notifications;
  private Thread thread;
  private final AtomicBoolean running = new AtomicBoolean();

  /**
   * @param hostPortOf where the controller reaches each server (a proxy in the path-cut test), by
   *     config name
   */
  LabCluster(
      PostgresPair pair,
      AwsEmulatorExtension aws,
      Path dir,
      String failover,
      Map<String, int[]> portOverride)
      throws Exception {
    this(pair, aws, dir, failover, portOverride, Map.of());
  }

  /**
   * @param logins the role the controller logs in as on each node (by config name), instead of the
   *     superuser
   */
  LabCluster(
      PostgresPair pair,
      AwsEmulatorExtension aws,
      Path dir,
      String failover,
      Map<String, int[]> portOverride,
      Map<String, LabConfig.Login> logins)
      throws Exception {
    this(pair, aws, dir, failover, portOverride, logins, "", List.of());
  }

  /**
   * @param moreYaml top-level blocks appended to the lab's config ({@code notify:}, {@code
   *     cloudwatch:})
   * @param interceptors more SDK interceptors on the controller's clients (a fault for one service)
   */
  LabCluster(
      PostgresPair pair,
      AwsEmulatorExtension aws,
      Path dir,
      String failover,
      Map<String, int[]> portOverride,
      Map<String, LabConfig.Login> logins,
      String moreYaml,
      List<software.amazon.awssdk.core.interceptor.ExecutionInterceptor> interceptors)
      throws Exception {
    this.pair = pair;
    this.aws = aws;
    healthyPair(pair);
    this.ec2 = aws.ec2Client();
    this.vpc = VpcFixture.builder(ec2).clusterName("lab").routeTables(2).create();
    PgNode primary = pair.primary();
    PgNode standby = pair.other(primary);
    servers.put("pg-" + primary.name(), primary);
    servers.put("pg-" + standby.name(), standby);
    List<LabConfig.Binding> bindings =
        List.of(
                binding("pg-" + primary.name(), primary, vpc.primary(), portOverride),
                binding("pg-" + standby.name(), standby, vpc.standby(), portOverride))
            .stream()
            .map(b -> logins.containsKey(b.name()) ? b.as(logins.get(b.name())) : b)
            .toList();
    Path password = Lab.secret(dir.resolve("pg-password"), PostgresPair.SUPERUSER_PASSWORD);
    Path token = Lab.secret(dir.resolve("admin-token"), "it-token-0123456789abcdef");
    this.eventLog = dir.resolve("events.jsonl");
    String yaml =
        new LabConfig(
                    aws.endpoint(),
                    aws.region(),
                    vpc,
                    bindings,
                    password,
                    token,
                    Lab.freePort(),
                    eventLog,
                    LabConfig.DEFAULT_PROBE,
                    failover)
                .render()
            + moreYaml;
    this.configFile = java.nio.file.Files.writeString(dir.resolve("controller.yaml"), yaml);
    this.config = ConfigLoader.parse(yaml, configFile.toString());
    this.backends =
        Wiring.connect(
            config,
            new Wiring.AwsAccess(
                Optional.of(aws.credentialsProvider()),
                java.util.stream.Stream.concat(
                        java.util.stream.Stream.of(new AwsCallCounter(awsCalls, op -> true)),
                        interceptors.stream())
                    .toList()));
  }

  private static LabConfig.Binding binding(
      String name, PgNode pg, VpcFixture.Node ec2, Map<String, int[]> override) {
    int[] port = override.get(name);
    return port == null
        ? LabConfig.Binding.of(name, pg, ec2)
        : new LabConfig.Binding(name, pg.host(), port[0], ec2);
  }

  /** Makes the pair one running primary and one streaming standby, whatever the last test left. */
  static void healthyPair(PostgresPair pair) {
    pair.restoreHealthy();
  }

  String name(PgNode node) {
    return servers.entrySet().stream()
        .filter(e -> e.getValue() == node)
        .findFirst()
        .orElseThrow()
        .getKey();
  }

  String eni(String name) {
    return config.node(name).orElseThrow().eniId();
  }

  /** The ENI each route table sends the virtual IP to now (read straight from the emulator). */
  List<String> routeTargets() {
    return vpc.routeTargets(ec2);
  }

  boolean routesOn(String name) {
    return routeTargets().stream().allMatch(eni(name)::equals);
  }

  ControlLoop newLoop() {
    return newLoop(new EventLog(eventLog, Clock.systemUTC(), config.cluster()));
  }

  private ControlLoop newLoop(EventLog events) {
    return new ControlLoop(
        config, backends.ports(), events, metrics, Clock.systemUTC(), Leadership.single());
  }

  /**
   * Starts the daemon's loop on a thread, as {@code failoverctl run} does, with its notifications
   * and CloudWatch metrics when the config has them.
   */
  ControlLoop start() {
    EventLog events = new EventLog(eventLog, Clock.systemUTC(), config.cluster());
    notifications = Notifications.start(config, backends, events, metrics);
    loop = newLoop(events);
    running.set(true);
    ControlLoop l = loop;
    thread =
        new Thread(
            () -> {
              try {
                l.run(running::get);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "control-loop");
    thread.start();
    return loop;
  }

  /** A writer through the virtual IP, resolved from the route tables as the VPC router does. */
  io.pgfailover.testsupport.lab.Demo.Router router() {
    Map<String, io.pgfailover.testsupport.lab.Demo.Node> byEni = new LinkedHashMap<>();
    servers.forEach(
        (name, pg) ->
            byEni.put(
                eni(name),
                new io.pgfailover.testsupport.lab.Demo.Node(
                    name, pg.host(), pg.port(), eni(name), pg.pid())));
    return new io.pgfailover.testsupport.lab.Demo.Router(
        ec2, vpc.routeTableIds(), vpc.vipCidr(), byEni);
  }

  ControlLoop loop() {
    return loop;
  }

  /** Stops the loop like a SIGKILL would, between two loops: nothing is cleaned up. */
  void stop() throws InterruptedException {
    running.set(false);
    if (thread != null) {
      thread.join(Duration.ofSeconds(30).toMillis());
    }
    if (loop != null) {
      loop.close();
    }
    if (notifications != null) {
      notifications.close();
    }
  }

  LoopReport awaitDecision(String what, Duration limit, Predicate<LoopReport> condition) {
    LoopReport[] seen = new LoopReport[1];
    Waits.until(
        what,
        limit,
        () -> {
          Optional<LoopReport> r = loop.last();
          r.ifPresent(x -> seen[0] = x);
          return r.filter(condition).isPresent();
        });
    return seen[0];
  }

  @Override
  public void close() throws Exception {
    stop();
    backends.close();
  }
}
