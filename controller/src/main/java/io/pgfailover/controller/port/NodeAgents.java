package io.pgfailover.controller.port;

import io.pgfailover.probe.Role;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The node agents, as the controller sees them: one per PostgreSQL host, reached over HTTP ({@code
 * failoverctl agent}), owning that host's PostgreSQL service and data directory. Implemented in
 * {@code wiring} over {@code java.net.http}; an in-memory fake serves unit tests.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li><b>Values versus exceptions:</b> no method throws for a failure of the agent or the network
 *       (down, timed out, a wrong token, an answer that is not the agent's). {@link #facts} and
 *       {@link #rejoinState} return a {@link Reply} with the failure; {@link #rejoin} returns
 *       {@link RejoinOutcome#UNANSWERED}; {@link #start} and {@link #stop} a failed {@link
 *       StepResult}. A node with no agent configured is such a failure too ({@link #has} tells).
 *   <li><b>Bounded:</b> every call returns within its timeout: reads ({@link #facts}, {@link
 *       #rejoinState}) within the read timeout; {@link #rejoin} within the rejoin timeout, because
 *       the agent checks the source and this node before it answers (it then works on by itself);
 *       {@link #start} and {@link #stop} within the action timeout, which must exceed the agent's
 *       own start and stop timeouts.
 *   <li><b>Idempotent:</b> {@link #start} on a running server and {@link #stop} on a stopped one
 *       change nothing ({@code changed=false}). A repeated {@link #rejoin} with the same source and
 *       timeline while one runs continues that one ({@link RejoinOutcome#CONTINUES}); on a node
 *       that already streams from that source on that timeline it does nothing ({@link
 *       RejoinOutcome#NOTHING_TO_DO}). So an {@code UNANSWERED} call may simply be repeated.
 *   <li><b>One at a time:</b> an agent runs one rejoin; a different request meanwhile is {@link
 *       RejoinOutcome#REFUSED}, and so are start and stop.
 *   <li><b>Refusals change nothing:</b> a rejoin the agent's own checks refuse (the source is not a
 *       primary on exactly {@code expectTimeline}; this node is on a newer timeline, or is a
 *       primary on that one) leaves the node exactly as it was.
 *   <li><b>A failed rejoin leaves the node stopped</b> (unless it failed before anything was
 *       changed), never half-configured and running; {@link Rejoin#error} says why, and a new
 *       request starts over.
 * </ul>
 */
public interface NodeAgents {

  /** No node has an agent: every call answers that, as the contract says. */
  static NodeAgents none() {
    return new NodeAgents() {
      private static final String NONE = "no agent configured for this node";

      @Override
      public boolean has(String node) {
        return false;
      }

      @Override
      public Reply<Facts> facts(String node) {
        return Reply.failed(NONE);
      }

      @Override
      public Reply<UpstreamView> upstream(String node) {
        return Reply.failed(NONE);
      }

      @Override
      public Reply<Rejoin> rejoinState(String node) {
        return Reply.failed(NONE);
      }

      @Override
      public RejoinReply rejoin(String node, RejoinRequest request) {
        return new RejoinReply(RejoinOutcome.UNANSWERED, NONE, Optional.empty());
      }

      @Override
      public StepResult start(String node) {
        return StepResult.failed(NONE, java.util.Map.of());
      }

      @Override
      public StepResult stop(String node) {
        return StepResult.failed(NONE, java.util.Map.of());
      }
    };
  }

  /** Whether {@code node} has an agent configured. */
  boolean has(String node);

  /** The node's facts, which the agent answers even while PostgreSQL is down. Bounded read. */
  Reply<Facts> facts(String node);

  /**
   * What the node's agent saw of its upstream ({@link Facts#upstream} alone): a cheap read, for
   * asking again within a loop. Bounded read.
   */
  Reply<UpstreamView> upstream(String node);

  /** The node's current or last rejoin. Bounded read. */
  Reply<Rejoin> rejoinState(String node);

  /**
   * Asks the node to rejoin {@code request.source()} as a standby. Returns once the agent accepted
   * or refused it; the rejoin itself runs on the agent (follow it with {@link #rejoinState}).
   */
  RejoinReply rejoin(String node, RejoinRequest request);

  /** Starts PostgreSQL, waiting until it accepts connections (within the agent's bound). */
  StepResult start(String node);

  /** Stops PostgreSQL (fast shutdown), waiting until it has exited (within the agent's bound). */
  StepResult stop(String node);

  /** An agent's answer, or why there is none. */
  record Reply<T>(Optional<T> value, Optional<String> failure) {
    public Reply {
      Objects.requireNonNull(value, "value");
      Objects.requireNonNull(failure, "failure");
      if (value.isPresent() == failure.isPresent()) {
        throw new IllegalArgumentException("a reply has a value or a failure, not both or neither");
      }
    }

    public static <T> Reply<T> of(T value) {
      return new Reply<>(Optional.of(value), Optional.empty());
    }

    public static <T> Reply<T> failed(String why) {
      return new Reply<>(Optional.empty(), Optional.of(why));
    }

    public boolean ok() {
      return value.isPresent();
    }
  }

  /**
   * What {@code pg_controldata} says about the data directory.
   *
   * @param state "in production", "shut down", "in archive recovery", ...
   * @param timeline the latest checkpoint's timeline (a node promoted since its last checkpoint is
   *     already on a newer one: see {@link Facts#timeline})
   * @param checkpointLsn the latest checkpoint's location
   * @param cleanShutdown "shut down" or "shut down in recovery": no crash recovery needed
   */
  record ControlData(
      String state,
      long timeline,
      String checkpointLsn,
      boolean cleanShutdown,
      boolean dataChecksums,
      boolean walLogHints) {}

  /**
   * One host's PostgreSQL, as its agent sees it.
   *
   * @param pid the running postmaster's process id
   * @param version the PostgreSQL version of the agent's binaries, e.g. "15.13"
   * @param dataBytes the data directory's size (refreshed at most every minute)
   * @param freeBytes free space on the data directory's file system, for this user
   * @param primaryConninfo from postgresql.auto.conf, else postgresql.conf, password removed
   * @param controlData empty when pg_controldata could not read the data directory
   * @param role the running server's answer, else what the control file says it was last
   * @param timeline the running server's timeline, else the newest of the control file's and of the
   *     timeline history files in pg_wal (a server killed right after its promotion has not
   *     checkpointed on the new timeline yet)
   * @param problems what could not be found out, in words
   * @param upstream the agent's own probe of the server its {@code primary_conninfo} names: the
   *     controller's active witness; empty when there is none to probe (absent from older agents)
   */
  record Facts(
      String node,
      boolean postmasterRunning,
      OptionalLong pid,
      String version,
      String dataDirectory,
      long dataBytes,
      long freeBytes,
      boolean standbySignal,
      Optional<String> primaryConninfo,
      Optional<ControlData> controlData,
      Role role,
      OptionalLong timeline,
      List<String> problems,
      Rejoin rejoin,
      Optional<Upstream> upstream) {
    public Facts {
      problems = List.copyOf(problems);
      upstream = upstream == null ? Optional.empty() : upstream;
    }

    /** The same facts with the upstream's ages {@code ms} older ({@link Upstream#olderBy}). */
    public Facts olderBy(long ms) {
      return withUpstream(upstream.map(u -> u.olderBy(ms)));
    }

    /** The same facts with {@code upstream} instead. */
    public Facts withUpstream(Optional<Upstream> upstream) {
      return new Facts(
          node,
          postmasterRunning,
          pid,
          version,
          dataDirectory,
          dataBytes,
          freeBytes,
          standbySignal,
          primaryConninfo,
          controlData,
          role,
          timeline,
          problems,
          rejoin,
          upstream);
    }
  }

  /** {@code GET /upstream}'s answer: the upstream, where the agent watches one. */
  record UpstreamView(Optional<Upstream> upstream) {
    public UpstreamView {
      upstream = upstream == null ? Optional.empty() : upstream;
    }
  }

  /**
   * What this host's agent saw of its upstream, its own probe every {@code witness.interval}. Ages
   * are measured on the agent's monotonic clock when it answers: nothing is compared across hosts.
   *
   * @param target host:port probed (from {@code primary_conninfo})
   * @param sinceReachedMs how long ago a probe last got an answer, and the role it answered as;
   *     empty when none ever did
   * @param sinceAnsweredMs how long ago a probe last heard anything from the server, a reach or a
   *     {@code slow} probe (its server sent bytes, too late to finish), dated at the probe's start;
   *     empty when none ever did (and from agents that predate it: then as {@code sinceReachedMs})
   * @param consecutiveFailures failed probes since the last answer
   * @param lastFailure the last failure's kind ({@code refused}, {@code timeout}, ...)
   * @param sinceProbedMs how long ago the last probe finished
   */
  record Upstream(
      String target,
      OptionalLong sinceReachedMs,
      Optional<Role> reachedAs,
      OptionalLong sinceAnsweredMs,
      int consecutiveFailures,
      Optional<String> lastFailure,
      OptionalLong sinceProbedMs) {

    public Upstream {
      sinceAnsweredMs = sinceAnsweredMs == null ? sinceReachedMs : sinceAnsweredMs;
    }

    /**
     * No failed probe yet and nothing heard from the server for {@code ageMs}: a probe begun since
     * is still waiting for its answer or its deadline.
     */
    public boolean probingSince(long ageMs) {
      return consecutiveFailures == 0
          && (sinceAnsweredMs.isEmpty() || sinceAnsweredMs.getAsLong() >= ageMs);
    }

    /** The ages as they are {@code ms} after the agent answered. */
    public Upstream olderBy(long ms) {
      return new Upstream(
          target,
          older(sinceReachedMs, ms),
          reachedAs,
          older(sinceAnsweredMs, ms),
          consecutiveFailures,
          lastFailure,
          older(sinceProbedMs, ms));
    }

    private static OptionalLong older(OptionalLong ageMs, long ms) {
      return ageMs.isPresent() ? OptionalLong.of(ageMs.getAsLong() + ms) : ageMs;
    }
  }

  /** How a rejoin brought the data directory onto the source's timeline. */
  enum Method {
    /** Nothing to rewind: the node only needed re-pointing. */
    NONE,
    REWIND,
    RECLONE
  }

  /** One finished phase of a rejoin and how long it took. */
  record Step(RejoinPhase step, long ms, String detail) {}

  /**
   * A node's current or last rejoin.
   *
   * @param source the new primary, host:port
   * @param expectTimeline the source's timeline the rejoin was asked for
   * @param error why it failed, when {@code state} is FAILED
   */
  record Rejoin(
      RejoinPhase state,
      Optional<String> source,
      OptionalLong expectTimeline,
      Optional<String> slot,
      Optional<Instant> startedAt,
      Optional<Instant> finishedAt,
      Method method,
      List<Step> steps,
      Optional<String> error) {
    public Rejoin {
      steps = List.copyOf(steps);
    }

    /** No rejoin yet. */
    public static Rejoin idle() {
      return new Rejoin(
          RejoinPhase.IDLE,
          Optional.empty(),
          OptionalLong.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Method.NONE,
          List.of(),
          Optional.empty());
    }
  }

  /**
   * A rejoin request: {@code POST /rejoin}.
   *
   * @param source the new primary, host:port as this node's standby will reach it
   * @param expectTimeline the timeline the source must be a primary on, checked by the agent
   * @param slot the physical replication slot on the source (created when absent); default {@code
   *     pgfailover_<node>}
   * @param applicationName the standby's application_name; default the node's name
   */
  record RejoinRequest(
      String source,
      long expectTimeline,
      Optional<String> slot,
      Optional<String> applicationName) {}

  /** How an agent answered a rejoin request. */
  enum RejoinOutcome {
    /** Accepted: a rejoin started (HTTP 202). */
    STARTED,
    /** The same rejoin already runs and goes on (HTTP 202). */
    CONTINUES,
    /** The node already streams from that source on that timeline (HTTP 200). */
    NOTHING_TO_DO,
    /** Refused by the agent's checks, or another rejoin runs: nothing was changed (HTTP 409). */
    REFUSED,
    /** No answer, a wrong token, an error: the agent may or may not have started it. */
    UNANSWERED
  }

  /** The agent's answer to a rejoin request, with the rejoin's state when it gave one. */
  record RejoinReply(RejoinOutcome outcome, String detail, Optional<Rejoin> rejoin) {}
}
