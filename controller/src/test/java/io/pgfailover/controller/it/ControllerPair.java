package io.pgfailover.controller.it;

import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.port.LeaseStore;
import io.pgfailover.controller.port.Ports;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.controller.port.VirtualIpRoutes;
import io.pgfailover.controller.wiring.Wiring;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.LeaseTableFixture;
import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.lab.Lab;
import io.pgfailover.testsupport.lab.LabConfig;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * Two controllers, as on the two NAT/control instances: one config each (own event log, admin port
 * and controller name), one lease table on the emulator's DynamoDB, the same real PostgreSQL pair
 * and route tables. Each controller's AWS clients count the mutating EC2 calls it sends, and its
 * promotions are counted at the port; a controller can be killed (its loop stops between two steps,
 * nothing released) or frozen just before the lease check of its next action.
 */
final class ControllerPair implements AutoCloseable {
  final PostgresPair pair;
  final VpcFixture vpc;
  final Ec2Client ec2;
  final Controller a;
  final Controller b;
  final Map<String, PgNode> servers = new java.util.LinkedHashMap<>();

  ControllerPair(PostgresPair pair, AwsEmulatorExtension aws, Path dir) throws Exception {
    this.pair = pair;
    LabCluster.healthyPair(pair);
    this.ec2 = aws.ec2Client();
    this.vpc = VpcFixture.builder(ec2).clusterName("lab").routeTables(2).create();
    String table = LeaseTableFixture.create(aws, "lab-lease");
    PgNode primary = pair.primary();
    PgNode standby = pair.other(primary);
    servers.put("pg-" + primary.name(), primary);
    servers.put("pg-" + standby.name(), standby);
    List<LabConfig.Binding> bindings =
        List.of(
            LabConfig.Binding.of("pg-" + primary.name(), primary, vpc.primary()),
            LabConfig.Binding.of("pg-" + standby.name(), standby, vpc.standby()));
    Path password = Lab.secret(dir.resolve("pg-password"), PostgresPair.SUPERUSER_PASSWORD);
    Path token = Lab.secret(dir.resolve("admin-token"), "it-token-0123456789abcdef");
    this.a = new Controller("ctl-a", aws, dir, bindings, password, token, table);
    this.b = new Controller("ctl-b", aws, dir, bindings, password, token, table);
  }

  String name(PgNode node) {
    return servers.entrySet().stream()
        .filter(e -> e.getValue() == node)
        .findFirst()
        .orElseThrow()
        .getKey();
  }

  String eni(String name) {
    return a.config.node(name).orElseThrow().eniId();
  }

  List<String> routeTargets() {
    return vpc.routeTargets(ec2);
  }

  boolean routesOn(String name) {
    return routeTargets().stream().allMatch(eni(name)::equals);
  }

  @Override
  public void close() throws Exception {
    a.close();
    b.close();
  }

  /**
   * One controller process: its config, backends, loop thread, and the counters the tests assert
   * on.
   */
  final class Controller implements AutoCloseable {
    final String name;
    final ControllerConfig config;
    final Path eventLog;
    final Backends backends;
    final EventLog events;

    /**
     * Mutating EC2 calls sent by this controller, by operation (ReplaceRoute, CreateRoute,
     * StopInstances).
     */
    final Map<String, AtomicInteger> mutatingCalls = new ConcurrentHashMap<>();

    /** Promotions this controller carried out that changed something (a standby left recovery). */
    final AtomicInteger promotions = new AtomicInteger();

    /** Armed: this controller's next lease check before an action blocks until {@link #thaw}. */
    private volatile CountDownLatch freezeGate;

    final CountDownLatch frozen = new CountDownLatch(1);

    /**
     * Armed: this controller's next route switch never returns, as if the process died inside it.
     */
    private final AtomicBoolean dieInRouteSwitch = new AtomicBoolean();

    private final CountDownLatch killed = new CountDownLatch(1);
    final CountDownLatch diedInRouteSwitch = new CountDownLatch(1);
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<LoopReport> reports = new java.util.concurrent.CopyOnWriteArrayList<>();
    private ControlLoop loop;
    private Thread thread;

    Controller(
        String name,
        AwsEmulatorExtension aws,
        Path dir,
        List<LabConfig.Binding> bindings,
        Path password,
        Path token,
        String table)
        throws Exception {
      this.name = name;
      this.eventLog = dir.resolve(name + "-events.jsonl");
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
                  LabConfig.DEFAULT_FAILOVER)
              .withLease(table, name, LabConfig.LAB_LEASE_TIMING)
              .render();
      Path file = Files.writeString(dir.resolve(name + ".yaml"), yaml);
      this.config = ConfigLoader.parse(yaml, file.toString());
      this.backends =
          Wiring.connect(
              config,
              new Wiring.AwsAccess(
                  Optional.of(aws.credentialsProvider()),
                  List.of(new AwsCallCounter(mutatingCalls, AwsCallCounter.MUTATING::contains))));
      this.events = new EventLog(eventLog, Clock.systemUTC(), config.cluster());
    }

    int mutating() {
      return mutatingCalls.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    int calls(String operation) {
      return mutatingCalls.getOrDefault(operation, new AtomicInteger()).get();
    }

    ControlLoop start() {
      LeaseStore store = new FreezableStore(backends.leaseStore().orElseThrow());
      Leadership leadership = Leadership.of(config.lease().orElseThrow(), store, events);
      loop =
          new ControlLoop(
              config,
              Ports.of(
                  new CountingNodes(backends.ports().postgres()),
                  new DyingRoutes(backends.ports().routes()),
                  backends.ports().fencer()),
              events,
              new Metrics(),
              Clock.systemUTC(),
              leadership);
      running.set(true);
      ControlLoop l = loop;
      thread =
          new Thread(
              () -> {
                try {
                  // Between two iterations: keep every report, since a loop that overran its
                  // interval (a takeover's) is followed at once by the next.
                  l.run(
                      () -> {
                        l.last().ifPresent(reports::add);
                        return running.get();
                      });
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "control-loop-" + name);
      thread.start();
      return loop;
    }

    ControlLoop loop() {
      return loop;
    }

    Leadership.Role role() {
      return loop.leadership().view().role();
    }

    void awaitRole(Leadership.Role role, Duration limit) {
      Waits.until(name + " is " + role, limit, () -> role() == role);
    }

    /**
     * The first report meeting {@code condition} from the one that was the loop's last when called
     * on, once there is one.
     */
    LoopReport awaitReport(String what, Duration limit, Predicate<LoopReport> condition) {
      LoopReport[] seen = new LoopReport[1];
      int from = Math.max(0, reports.size() - 1);
      Waits.until(
          name + ": " + what,
          limit,
          () -> {
            List<LoopReport> all = new java.util.ArrayList<>(reports.subList(from, reports.size()));
            loop.last().ifPresent(all::add);
            Optional<LoopReport> r = all.stream().filter(condition).findFirst();
            r.ifPresent(x -> seen[0] = x);
            return r.isPresent();
          });
      return seen[0];
    }

    /**
     * Like SIGKILL between two loops: the loop stops, the lease is not released, nothing is cleaned
     * up.
     */
    void kill() throws InterruptedException {
      running.set(false);
      killed.countDown();
      thaw();
      if (thread != null) {
        thread.join(Duration.ofSeconds(30).toMillis());
      }
    }

    /**
     * The next lease check before an action blocks, as a GC pause or a stopped VM would hold the
     * thread.
     */
    void freezeBeforeNextAction() {
      freezeGate = new CountDownLatch(1);
    }

    void thaw() {
      CountDownLatch g = freezeGate;
      freezeGate = null;
      if (g != null) {
        g.countDown();
      }
    }

    /**
     * The next route switch hangs until the kill: a controller that dies between promoting and
     * repointing.
     */
    void dieInNextRouteSwitch() {
      dieInRouteSwitch.set(true);
    }

    @Override
    public void close() throws Exception {
      kill();
      if (loop != null) {
        loop.close();
      }
      backends.close();
    }

    /**
     * Delegates to the real store; armed, the renewal made before an action waits for the thaw
     * first.
     */
    private final class FreezableStore implements LeaseStore {
      private final LeaseStore real;

      FreezableStore(LeaseStore real) {
        this.real = real;
      }

      @Override
      public Optional<Lease> read() {
        return real.read();
      }

      @Override
      public Optional<Lease> take(Optional<Lease> seen, String owner, Duration duration) {
        return real.take(seen, owner, duration);
      }

      @Override
      public Optional<Lease> renew(String owner, long token, Duration duration) {
        CountDownLatch g = freezeGate;
        if (g != null && calledFromActuator()) {
          frozen.countDown();
          try {
            g.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        }
        return real.renew(owner, token, duration);
      }

      @Override
      public boolean release(String owner, long token) {
        return real.release(owner, token);
      }

      private boolean calledFromActuator() {
        return StackWalker.getInstance()
            .walk(s -> s.anyMatch(f -> f.getClassName().endsWith(".Actuator")));
      }
    }

    private final class CountingNodes extends ForwardingPostgresNodes {
      CountingNodes(PostgresNodes real) {
        super(real);
      }

      @Override
      public StepResult promote(NodeConfig node, Duration timeout) {
        StepResult r = super.promote(node, timeout);
        if (r.ok() && r.changed()) {
          promotions.incrementAndGet();
        }
        return r;
      }
    }

    private final class DyingRoutes implements VirtualIpRoutes {
      private final VirtualIpRoutes real;

      DyingRoutes(VirtualIpRoutes real) {
        this.real = real;
      }

      @Override
      public List<VirtualIpRoute> read() {
        return real.read();
      }

      @Override
      public StepResult pointAt(String targetId, List<String> routeTables) {
        if (dieInRouteSwitch.getAndSet(false)) {
          diedInRouteSwitch.countDown();
          try {
            killed.await(5, TimeUnit.MINUTES);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return StepResult.failed("process killed (test)", Map.of());
        }
        return real.pointAt(targetId, routeTables);
      }
    }
  }
}
