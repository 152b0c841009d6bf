package io.pgfailover.controller.it;

import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.port.Ports;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.controller.port.VirtualIpRoutes;
import io.pgfailover.controller.wiring.Wiring;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The flapping link's observer runs (see {@code FaultMatrix.FLAP_RUNS}): one control loop per
 * config file given, all in this one JVM on the controller's host, each built as {@code failoverctl
 * run} builds its own (the same probes, decider, actuator and pre-promotion re-check, its own event
 * history) and running on its own thread. Only the edges that change the cluster are replaced: a
 * promotion, a write stop or a route write is written to the loop's event history as started and
 * then refused, so a run that wrongly starts a promotion shows it in its own history without
 * changing the cluster under the other runs. One JVM instead of nine keeps the two cores of the
 * lab's machine free enough for the probes' timing to mean something. Runs until stdin closes.
 */
public final class ObserverControllers {
  private ObserverControllers() {}

  public static void main(String[] args) throws Exception {
    AtomicBoolean running = new AtomicBoolean(true);
    List<Thread> loops = new ArrayList<>();
    List<AutoCloseable> open = new ArrayList<>();
    Duration interval = Duration.ZERO; // the runs share the lab controller's probe interval
    for (String file : args) {
      ControllerConfig config = ConfigLoader.load(Path.of(file));
      interval = config.probe().interval();
      Clock clock = Clock.systemUTC();
      Backends backends = Wiring.connect(config, Wiring.AwsAccess.DEFAULT_CHAIN);
      open.add(backends);
      Ports real = backends.ports().withoutNat();
      Ports observing =
          new Ports(
              new Refusing(real.postgres()),
              new ReadOnlyRoutes(real.routes()),
              (instanceId, bound) -> refused("fencing " + instanceId),
              real.agents(),
              java.util.Optional.empty());
      ControlLoop loop =
          new ControlLoop(
              config,
              observing,
              new EventLog(config.eventLog(), clock, config.cluster()),
              new Metrics(),
              clock,
              Leadership.single());
      open.add(loop);
      Thread t =
          new Thread(
              () -> {
                try {
                  loop.run(running::get);
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              "observer-" + loops.size());
      t.setDaemon(true);
      loops.add(t);
    }
    // Spread over one probe interval, as separate controllers' phases would be. Started together,
    // nine cold loops' first logins (SCRAM and the JIT on two cores) once kept every probe of the
    // clean-clone run on 6d27a64 past its deadline for a whole minute: no loop ever got healthy.
    long spreadNanos = interval.toNanos() / Math.max(1, loops.size());
    for (Thread t : loops) {
      t.start();
      java.util.concurrent.locks.LockSupport.parkNanos(spreadNanos); // pacing, not a wait for state
    }
    System.in.transferTo(java.io.OutputStream.nullOutputStream()); // until the harness closes it
    running.set(false);
    for (Thread t : loops) {
      t.join(Duration.ofSeconds(10).toMillis());
    }
    for (AutoCloseable c : open) {
      c.close();
    }
  }

  private static StepResult refused(String what) {
    return StepResult.failed(
        "observer: " + what + " refused, the cluster is left as it is", Map.of());
  }

  /** The real probes and watch; every change to a server refused. */
  private static final class Refusing extends ForwardingPostgresNodes {
    Refusing(PostgresNodes real) {
      super(real);
    }

    @Override
    public StepResult promote(NodeConfig node, Duration timeout) {
      return refused("promotion of " + node.name());
    }

    @Override
    public StepResult stopWrites(NodeConfig node) {
      return refused("write stop on " + node.name());
    }

    @Override
    public StepResult allowWrites(NodeConfig node) {
      return refused("allowing writes on " + node.name());
    }

    @Override
    public StepResult setSynchronousStandbys(NodeConfig node, String names) {
      return refused("synchronous_standby_names on " + node.name());
    }

    @Override
    public StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout) {
      return refused("waiting for " + standby.name());
    }
  }

  /** The real route tables, read; every write refused. */
  private record ReadOnlyRoutes(VirtualIpRoutes real) implements VirtualIpRoutes {
    @Override
    public List<VirtualIpRoute> read() {
      return real.read();
    }

    @Override
    public StepResult pointAt(String targetId, List<String> routeTables) {
      return refused("pointing the routes at " + targetId);
    }
  }
}
