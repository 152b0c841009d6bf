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
   * The loop's watch of the primary between full probes ({@code ControlLoop}): the same observation
   * and deadline, on sessions kept open where the implementation can (a fault then almost never
   * falls in the middle of one, and a query answered after the deadline shows the node alive at the
   * next call). Never throws, never hangs.
   */
  default NodeObservation watch(NodeConfig node) {
    return probe(node);
  }

  /**
   * Opens, in the background, what {@link #watch} keeps open to {@code node}, where the
   * implementation keeps anything: its first call then needs no new connection. Returns at once.
   */
  default void openWatch(NodeConfig node) {}

  /**
   * When ({@link System#nanoTime()}) the node's server last sent anything on a full probe's own
   * connections (a login's or a query's answer), where the implementation knows: a probe that ended
   * {@code slow} heard its server then and nothing after. Empty when unknown.
   */
  default java.util.OptionalLong lastHeard(NodeConfig node) {
    return java.util.OptionalLong.empty();
  }

  /**
   * The same probe under a shorter {@code deadline} (at most the probe timeout): a quick "does it
   * answer now?". Implementations whose probe answers at once need not override it.
   */
  default NodeObservation probe(NodeConfig node, Duration deadline) {
    return probe(node);
  }

  /**
   * Promote a standby and confirm it left recovery on a new timeline. Idempotent: on a node that is
   * already primary it changes nothing and reports {@code changed=false}. Only promotes: a write
   * stop the node carries is {@link #allowWrites}'s, a separate step. A failure before {@code
   * pg_promote} was sent is {@code failed}; once it was sent, an unconfirmed promotion is {@code
   * failedMaybeChanged} (it may still complete).
   */
  StepResult promote(NodeConfig node, Duration timeout);

  /**
   * Make a primary refuse writes: read-only by default for new transactions, client sessions ended
   * (their open transactions roll back, so nothing acknowledged is lost). Idempotent. Reports the
   * WAL position after the stop in {@code fields.lsn}.
   */
  StepResult stopWrites(NodeConfig node);

  /**
   * Undo {@link #stopWrites}. Idempotent: a node without a write stop is not written to (so this
   * needs no privilege there).
   */
  StepResult allowWrites(NodeConfig node);

  /**
   * Set {@code synchronous_standby_names} on the primary {@code node} to {@code names} ({@code ""}
   * for none): ALTER SYSTEM and a reload, then wait until the server uses it. Idempotent.
   */
  StepResult setSynchronousStandbys(NodeConfig node, String names);

  /**
   * Wait until {@code standby} has replayed everything {@code primary} has written, within the
   * timeout.
   */
  StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout);
}
