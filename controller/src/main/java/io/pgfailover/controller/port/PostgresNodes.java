package io.pgfailover.controller.port;

import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.NodeObservation;
import java.time.Duration;

/**
 * The PostgreSQL servers, as the controller sees them. Implemented over pg-probe; only pg-probe
 * talks JDBC.
 *
 * <p>Contract: no method throws for a failure of the server or the network; each returns a value
 * saying what happened. Every call is bounded in time.
 */
public interface PostgresNodes {
  /** One probe under the probe deadline. Never throws, never hangs. */
  NodeObservation probe(NodeConfig node);

  /**
   * Promote a standby and confirm it left recovery on a new timeline. Idempotent: on a node that is
   * already primary it changes nothing and reports {@code changed=false}. Also clears a write stop
   * left by an earlier switchover, so the new primary takes writes.
   */
  StepResult promote(NodeConfig node, Duration timeout);

  /**
   * Make a primary refuse writes: read-only by default for new transactions, client sessions ended
   * (their open transactions roll back, so nothing acknowledged is lost). Idempotent. Reports the
   * WAL position after the stop in {@code fields.lsn}.
   */
  StepResult stopWrites(NodeConfig node);

  /** Undo {@link #stopWrites}. Idempotent. */
  StepResult allowWrites(NodeConfig node);

  /**
   * Wait until {@code standby} has replayed everything {@code primary} has written, within the
   * timeout.
   */
  StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout);
}
