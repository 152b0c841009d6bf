package io.pgfailover.controller.it;

import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * The real {@link PostgresNodes}, every method passed on: the test wrappers (observer runs, the
 * controller pair) extend it and override only what they change. A wrapper that implemented the
 * interface itself fell back to its defaults for what it forgot, and so tested other code than
 * production's: the observer runs never opened the watch's sessions ahead, and the pair's
 * controllers had no {@code lastHeard} ({@code ForwardingPostgresNodesTest} keeps this class
 * complete).
 */
abstract class ForwardingPostgresNodes implements PostgresNodes {
  private final PostgresNodes real;

  ForwardingPostgresNodes(PostgresNodes real) {
    this.real = real;
  }

  @Override
  public NodeObservation probe(NodeConfig node) {
    return real.probe(node);
  }

  @Override
  public NodeObservation probe(NodeConfig node, Duration deadline) {
    return real.probe(node, deadline);
  }

  @Override
  public NodeObservation watch(NodeConfig node) {
    return real.watch(node);
  }

  @Override
  public void openWatch(NodeConfig node) {
    real.openWatch(node);
  }

  @Override
  public OptionalLong lastHeard(NodeConfig node) {
    return real.lastHeard(node);
  }

  @Override
  public StepResult promote(NodeConfig node, Duration timeout) {
    return real.promote(node, timeout);
  }

  @Override
  public StepResult stopWrites(NodeConfig node) {
    return real.stopWrites(node);
  }

  @Override
  public StepResult allowWrites(NodeConfig node) {
    return real.allowWrites(node);
  }

  @Override
  public StepResult setSynchronousStandbys(NodeConfig node, String names) {
    return real.setSynchronousStandbys(node, names);
  }

  @Override
  public StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout) {
    return real.awaitCatchUp(standby, primary, timeout);
  }
}
