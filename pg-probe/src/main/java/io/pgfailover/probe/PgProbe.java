package io.pgfailover.probe;

import io.pgfailover.probe.internal.AnswerWatch;
import io.pgfailover.probe.internal.FailureClassifier;
import io.pgfailover.probe.internal.NodeQueries;
import io.pgfailover.probe.internal.NodeQueries.Observation;
import io.pgfailover.probe.internal.ProbeConnections;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounded probes and promotion of PostgreSQL nodes over JDBC.
 *
 * <p>Contract: {@link #probe} and {@link #probeAll} never throw and return within the deadline
 * (plus scheduling noise): each probe runs on a worker thread; when the deadline passes the caller
 * stops waiting, aborts the connection's socket and reports {@link Reachability#TIMEOUT}. Each
 * probe uses its own short-lived connection (see the README for the measurement behind that
 * choice). {@link #promote} returns a result, not an exception, for every outcome. Instances are
 * thread-safe; close them to stop the worker threads.
 */
public final class PgProbe implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PgProbe.class);

  /**
   * The shortest promotion timeout: the end of recovery writes and syncs a WAL record and a
   * timeline history file, which a busy disk can stretch towards a second.
   */
  public static final Duration MIN_PROMOTION_TIMEOUT = Duration.ofSeconds(1);

  /**
   * How often the promoting session reads role and timeline: promotion takes tens of ms, so a
   * coarser poll would add most of its own period to every failover.
   */
  static final long CONFIRM_POLL_MILLIS = 10;

  private static final long CONFIRM_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(CONFIRM_POLL_MILLIS);

  /** Between fresh probes when the promoting session broke: each opens new connections. */
  private static final long PROBE_AGAIN_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  /** Connections one probe may open, one more every {@code deadline / TRIES} (see Attempt). */
  static final int TRIES = 4;

  private final ProbeSettings settings;
  private final Clock clock;
  private final ExecutorService workers;

  public PgProbe(ProbeSettings settings) {
    this(settings, Clock.systemUTC());
  }

  /** {@code clock} stamps observations; deadlines use the monotonic {@link System#nanoTime()}. */
  public PgProbe(ProbeSettings settings, Clock clock) {
    this.settings = java.util.Objects.requireNonNull(settings, "settings");
    this.clock = java.util.Objects.requireNonNull(clock, "clock");
    AtomicInteger n = new AtomicInteger();
    ThreadFactory daemons =
        r -> {
          Thread t = new Thread(r, "pg-probe-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        };
    // Unbounded on purpose: a worker stuck on a frozen node is abandoned at the deadline and ends
    // by itself at the driver's socket timeout, so at most about TRIES × (deadline + 1 s) /
    // interval workers per frozen node exist (one per connection a probe opened).
    this.workers = Executors.newCachedThreadPool(daemons);
  }

  public ProbeSettings settings() {
    return settings;
  }

  /** Observes one node within {@code settings().deadline()}. Never throws. */
  public ProbeResult probe(NodeEndpoint node) {
    return probeAll(List.of(node)).get(0);
  }

  /**
   * Sessions {@link #watch} keeps open to one node: two, on two TCP connections. A lossy path
   * stalls each connection on its own (a lost segment waits out its retransmission timer, 200 ms
   * doubling with each loss, and holds up everything behind it), while a cut, crash or freeze
   * silences both: a node is a failed watch probe only when neither answered. One session stalled
   * past the probe deadline once in about 30 calls at 30 % loss (the flapping-link test), often for
   * several seconds, which a single session's failures turned into runs of failed probes.
   */
  static final int WATCH_SESSIONS = 2;

  /**
   * One session {@link #watch} keeps open, and its query still running when the last call ended
   * ({@code overdue}: unanswered by that call's deadline; else that call ended on another session's
   * answer first).
   */
  private record Session(Connection connection, Future<Observation> unanswered, boolean overdue) {}

  /**
   * A watched node: its open sessions, and connections still opening (in the background, so that no
   * call waits for a login; a later call adopts them).
   */
  private record Watched(
      NodeEndpoint node,
      List<Session> sessions,
      List<java.util.concurrent.CompletableFuture<Connection>> opening) {}

  private final java.util.Map<String, Watched> watched = new java.util.HashMap<>();

  /** Per watched node: when the last query answered on its sessions was sent ({@link #watch}). */
  private final java.util.Map<String, Long> answeredSent =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * Per node: when its server last sent bytes on a full probe's own connections ({@link #probe}).
   */
  private final java.util.Map<String, Long> heardOnProbe =
      new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * When ({@link System#nanoTime()}) {@code node}'s server last sent anything (a login's or a
   * query's answer) on one of the full probes' own connections; empty if never. A probe that ended
   * {@code SLOW} heard its server then, and nothing after.
   */
  public OptionalLong lastHeardOnProbe(String node) {
    Long at = heardOnProbe.get(node);
    return at == null ? OptionalLong.empty() : OptionalLong.of(at);
  }

  /**
   * When ({@link System#nanoTime()}) the last query that got an answer on {@code node}'s watch
   * sessions was sent: the server was alive then or later. Set the moment the answer comes, so a
   * late answer counts before the next {@link #watch} call. Empty while none has answered since the
   * sessions were last dropped for another server.
   */
  public OptionalLong lastAnswerSent(String node) {
    Long sent = answeredSent.get(node);
    return sent == null ? OptionalLong.empty() : OptionalLong.of(sent);
  }

  /**
   * Starts opening, in the background, the sessions {@link #watch} keeps to {@code node}, where it
   * has never watched this server (none open or opening, and none ever answered): its first call
   * then takes them instead of a full probe (a new connection and a login, into which a fault falls
   * often enough to leave that call {@code SLOW} and the next probe a whole deadline late).
   * Sessions dropped for going unanswered are not opened again here: {@link #watch}'s full probe
   * comes first then, and on a lossy path it can show the server alive ({@code SLOW}) where fresh
   * sessions' first query would time out. Returns at once; the future completes when every session
   * opening has opened or failed (a failed one is left to {@link #watch}, which opens it again).
   */
  public synchronized java.util.concurrent.CompletableFuture<Void> openWatch(NodeEndpoint node) {
    Watched w = watchedNow(node);
    if (w == null) {
      if (answeredSent.containsKey(node.name())) {
        return java.util.concurrent.CompletableFuture.completedFuture(null);
      }
      w = openMissing(new Watched(node, List.of(), List.of()));
      watched.put(node.name(), w);
    }
    return java.util.concurrent.CompletableFuture.allOf(
            w.opening().toArray(java.util.concurrent.CompletableFuture[]::new))
        .handle((ok, failed) -> null);
  }

  /**
   * Watches a node between full probes: the probe's queries on sessions kept open from one call to
   * the next ({@link #WATCH_SESSIONS}), under the probe deadline; the first answer counts. There
   * they take about a millisecond, so a fault almost never falls inside one; a full probe (a new
   * connection and a login, tens of ms on a busy host) was cut in the middle often enough to report
   * a server that had just died as {@code SLOW}.
   *
   * <p>A query that gets no answer by the deadline stays on its session: the next call waits for
   * its answer first, up to its own deadline. An answer then is the server alive since that query
   * was sent: on a lossy path TCP retransmits and delivers it late, while a cut-off, crashed or
   * frozen server never answers it. When no session answers a new query in time but such a late
   * answer came, the call is {@code SLOW} (alive, so not a failed probe); when nothing came, {@code
   * TIMEOUT}. A session whose query goes unanswered for a second deadline is dropped. Sessions that
   * break are dropped; when none is left, a full probe answers within what is left of the deadline
   * (a restarted server or a dropped idle connection is then no failure). Without sessions a full
   * probe answers, and after a reachable one sessions are opened for the next call. Never throws.
   */
  public synchronized ProbeResult watch(NodeEndpoint node) {
    Watched w = watchedNow(node);
    w = w == null ? new Watched(node, List.of(), List.of()) : adoptOpened(w);
    if (w.sessions().isEmpty()) {
      ProbeResult r = probe(node);
      watched.put(node.name(), r.reachable() ? openMissing(w) : w);
      if (w.opening().isEmpty() && !r.reachable()) {
        watched.remove(node.name());
      }
      return r;
    }
    long start = System.nanoTime();
    long deadlineNanos = start + settings.deadline().toNanos();
    Instant at = clock.instant();
    AtomicBoolean late = new AtomicBoolean();
    java.util.concurrent.ExecutorCompletionService<Observation> answers =
        new java.util.concurrent.ExecutorCompletionService<>(workers);
    List<Future<Observation>> queries = new ArrayList<>();
    try {
      for (Session session : w.sessions()) {
        Future<Observation> before = session.unanswered();
        boolean overdue = session.overdue();
        Connection c = session.connection();
        queries.add(
            answers.submit(
                () -> {
                  if (before != null) {
                    before.get(); // throws for a session that broke meanwhile
                    if (overdue) {
                      late.set(true);
                    }
                  }
                  long sent = System.nanoTime();
                  Observation o = NodeQueries.observe(c);
                  answeredSent.merge(node.name(), sent, Math::max);
                  return o;
                }));
      }
    } catch (RejectedExecutionException e) {
      return ProbeResult.unreachable(
          node.name(), at, Duration.ZERO, Reachability.OTHER, "the probe is closed");
    }
    Throwable broke = null;
    try {
      for (int done = 0; done < queries.size(); done++) {
        Future<Observation> f =
            answers.poll(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        if (f == null) {
          break; // the deadline
        }
        try {
          Observation o = f.get();
          watched.put(node.name(), openMissing(keepSessions(w, queries, false)));
          logLate(node, late, start);
          return reachableResult(
              node.name(), at, Duration.ofNanos(System.nanoTime() - start), o, Optional.empty());
        } catch (ExecutionException e) {
          broke = e.getCause();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      drop(node.name());
      return ProbeResult.unreachable(
          node.name(), at, Duration.ZERO, Reachability.OTHER, "interrupted");
    }
    Watched left = keepSessions(w, queries, true);
    if (left.sessions().isEmpty() && left.opening().isEmpty()) {
      watched.remove(node.name());
    } else {
      watched.put(node.name(), left);
    }
    logLate(node, late, start);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    if (late.get()) {
      ProbeResult r =
          ProbeResult.unreachable(
              node.name(),
              at,
              took,
              Reachability.SLOW,
              "the server answered a query on its open sessions late, none of this call's within"
                  + " the probe deadline "
                  + settings.deadline()
                  + ": alive, the path or the server is slow");
      logResult(r);
      return r;
    }
    if (left.sessions().isEmpty() && broke != null) {
      Duration rest = Duration.ofNanos(deadlineNanos - System.nanoTime());
      if (!rest.isNegative() && !rest.isZero()) {
        return probe(node, rest);
      }
      ProbeResult r =
          ProbeResult.unreachable(
              node.name(),
              at,
              took,
              FailureClassifier.classify(broke),
              NodeQueries.describe(broke));
      logResult(r);
      return r;
    }
    ProbeResult r =
        ProbeResult.unreachable(
            node.name(),
            at,
            took,
            Reachability.TIMEOUT,
            "no answer on its open sessions within the probe deadline " + settings.deadline());
    logResult(r);
    return r;
  }

  /**
   * After a call: each session keeps its query still unanswered, unless the call waited out its
   * deadline and the one before it was unanswered too (a second deadline: dropped); sessions whose
   * query failed are dropped.
   */
  private static Watched keepSessions(
      Watched w, List<Future<Observation>> queries, boolean deadlinePassed) {
    List<Session> kept = new ArrayList<>();
    for (int i = 0; i < queries.size(); i++) {
      Session before = w.sessions().get(i);
      Future<Observation> q = queries.get(i);
      boolean failed = q.isDone() && !succeeded(q);
      boolean unansweredTwice = deadlinePassed && !q.isDone() && before.overdue();
      if (failed || unansweredTwice) {
        abort(before.connection());
      } else {
        kept.add(
            new Session(before.connection(), q.isDone() ? null : q, deadlinePassed && !q.isDone()));
      }
    }
    return new Watched(w.node(), kept, w.opening());
  }

  private static boolean succeeded(Future<Observation> q) {
    try {
      q.get(0, TimeUnit.NANOSECONDS);
      return true;
    } catch (ExecutionException | TimeoutException | java.util.concurrent.CancellationException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static void logLate(NodeEndpoint node, AtomicBoolean late, long start) {
    if (late.get()) {
      log.info(
          "event=watch_late_answer node={} ms={}: a query left unanswered by the last deadline was"
              + " answered: alive, the path is slow",
          node.name(),
          (System.nanoTime() - start) / 1_000_000);
    }
  }

  /**
   * What is kept for watching {@code node}, if anything; what was kept for another server is
   * dropped.
   */
  private Watched watchedNow(NodeEndpoint node) {
    Watched w = watched.get(node.name());
    if (w != null && !sameServer(w.node(), node)) {
      drop(node.name());
      answeredSent.remove(node.name());
      return null;
    }
    return w;
  }

  /** Moves the connections that have opened into the sessions; drops those that failed to. */
  private static Watched adoptOpened(Watched w) {
    List<Session> sessions = new ArrayList<>(w.sessions());
    List<java.util.concurrent.CompletableFuture<Connection>> opening = new ArrayList<>();
    for (var f : w.opening()) {
      if (!f.isDone()) {
        opening.add(f);
      } else if (!f.isCompletedExceptionally()) {
        sessions.add(new Session(f.join(), null, false));
      }
    }
    return new Watched(w.node(), sessions, opening);
  }

  /**
   * Starts opening, in the background, the sessions a node that answered lacks. Their reads wait
   * past the two deadlines a query may be awaited for (one call's and the next's), so that the
   * driver does not break a session before then.
   */
  private Watched openMissing(Watched w) {
    List<java.util.concurrent.CompletableFuture<Connection>> opening = new ArrayList<>(w.opening());
    NodeEndpoint node = w.node();
    try {
      for (int i = w.sessions().size() + opening.size(); i < WATCH_SESSIONS; i++) {
        opening.add(
            java.util.concurrent.CompletableFuture.supplyAsync(
                () -> {
                  try {
                    Connection c = ProbeConnections.open(node, settings.deadline());
                    c.setNetworkTimeout(
                        Runnable::run, (int) settings.deadline().multipliedBy(3).toMillis());
                    return c;
                  } catch (SQLException e) {
                    log.debug(
                        "event=watch_session_failed node={} error=\"{}\"",
                        node.name(),
                        e.toString());
                    throw new java.util.concurrent.CompletionException(e);
                  }
                },
                workers));
      }
    } catch (RejectedExecutionException e) {
      // Closed: no new sessions.
    }
    return new Watched(node, w.sessions(), opening);
  }

  /** Same server and login (a password source is read at each login, so it is not compared). */
  private static boolean sameServer(NodeEndpoint a, NodeEndpoint b) {
    return a.host().equals(b.host())
        && a.port() == b.port()
        && a.database().equals(b.database())
        && a.user().equals(b.user());
  }

  private void drop(String node) {
    Watched w = watched.remove(node);
    if (w != null) {
      w.sessions().forEach(s -> abort(s.connection()));
      w.opening().forEach(f -> f.thenAccept(PgProbe::abort));
    }
  }

  /**
   * Observes one node within {@code deadline} (at most {@code settings().deadline()}): a quick
   * "does it answer now?". Never throws.
   */
  public ProbeResult probe(NodeEndpoint node, Duration deadline) {
    Duration d = deadline.compareTo(settings.deadline()) < 0 ? deadline : settings.deadline();
    return probeAll(List.of(node), settings.writeCheck(), d).get(0);
  }

  /**
   * Observes several nodes in parallel under one deadline; results are in the order of {@code
   * nodes}.
   */
  public List<ProbeResult> probeAll(List<NodeEndpoint> nodes) {
    return probeAll(nodes, settings.writeCheck(), settings.deadline());
  }

  private List<ProbeResult> probeAll(
      List<NodeEndpoint> nodes, boolean writeCheck, Duration deadline) {
    long startNanos = System.nanoTime();
    long deadlineNanos = startNanos + deadline.toNanos();
    Instant observedAt = clock.instant();
    List<Attempt> attempts = new ArrayList<>(nodes.size());
    for (NodeEndpoint node : nodes) {
      attempts.add(new Attempt(node, observedAt, startNanos, writeCheck, deadline));
    }
    List<ProbeResult> results = new ArrayList<>(nodes.size());
    for (Attempt a : attempts) {
      ProbeResult r = a.await(deadlineNanos);
      logResult(r);
      results.add(r);
    }
    return results;
  }

  /**
   * Promotes a standby and confirms it. A probe reads its role first, as every probe does (on a
   * lossy path it tries several connections); meanwhile one session connects, and once the probe
   * says "standby" it sends {@code pg_promote(wait => false)} and reads the role and timeline every
   * {@value #CONFIRM_POLL_MILLIS} ms until the node is out of recovery on a newer timeline. A node
   * that is already a primary is left alone ({@code ALREADY_PRIMARY}). An unreachable node, a node
   * whose role cannot be read or a {@code pg_promote} refused for lack of privilege give {@code
   * NOT_STARTED}: nothing was set in motion. Once {@code pg_promote} was sent, a promotion not
   * confirmed within {@code timeout} gives {@code FAILED}: it may still complete. Returns within
   * {@code timeout} plus one probe deadline. Checking that no other primary exists is the caller's
   * job.
   */
  public PromotionResult promote(NodeEndpoint standby, Duration timeout) {
    if (timeout == null || timeout.compareTo(MIN_PROMOTION_TIMEOUT) < 0) {
      throw new IllegalArgumentException(
          "promotion timeout "
              + timeout
              + " must be at least "
              + MIN_PROMOTION_TIMEOUT
              + " (the end of recovery writes and syncs files; a busy disk can take that long)");
    }
    long startNanos = System.nanoTime();
    long endNanos = startNanos + timeout.toNanos();
    PromoteSession session = new PromoteSession(standby, endNanos);
    try {
      return promote(standby, timeout, startNanos, endNanos, session);
    } finally {
      session.callOff(); // a no-op once pg_promote was sent
    }
  }

  private PromotionResult promote(
      NodeEndpoint standby,
      Duration timeout,
      long startNanos,
      long endNanos,
      PromoteSession session) {
    Future<SessionEnd> running;
    try {
      running = workers.submit(session);
    } catch (RejectedExecutionException e) {
      return finish(
          standby,
          startNanos,
          PromotionResult.Outcome.NOT_STARTED,
          OptionalLong.empty(),
          OptionalLong.empty(),
          "the probe is closed; " + standby.name() + " not promoted");
    }
    ProbeResult before = probeAll(List.of(standby), false, settings.deadline()).get(0);
    if (!before.reachable()) {
      return notPromoted(
          standby,
          startNanos,
          before,
          PromotionResult.Outcome.NOT_STARTED,
          "node "
              + standby.name()
              + " is unreachable ("
              + before.reachability()
              + ": "
              + before.error().orElse("")
              + "); not promoted");
    }
    if (before.role() == Role.PRIMARY) {
      return finish(
          standby,
          startNanos,
          PromotionResult.Outcome.ALREADY_PRIMARY,
          before.timeline(),
          before.timeline(),
          null);
    }
    if (before.role() != Role.STANDBY || before.timeline().isEmpty()) {
      return notPromoted(
          standby,
          startNanos,
          before,
          PromotionResult.Outcome.NOT_STARTED,
          "node " + standby.name() + " did not report a role and timeline; not promoted");
    }
    long timelineBefore = before.timeline().getAsLong();
    log.info(
        "event=promote_started node={} timeline={} replay_lsn={} timeout_ms={}",
        standby.name(),
        timelineBefore,
        before.replayLsn().map(Lsn::toString).orElse("none"),
        timeout.toMillis());
    session.go(timelineBefore);
    SessionEnd end = session.await(running, endNanos + settings.deadline().toNanos());
    switch (end.kind()) {
      case NOT_SENT:
      case SEND_FAILED:
        // A privilege error is raised before the server signals the promotion, and a session
        // called off never sent it; any other error may come after the signal: it may still happen.
        return notPromoted(
            standby,
            startNanos,
            before,
            end.kind() == SessionKind.NOT_SENT
                ? PromotionResult.Outcome.NOT_STARTED
                : PromotionResult.Outcome.FAILED,
            "pg_promote on " + standby.name() + " failed: " + end.error());
      case CONFIRMED:
        return confirmed(standby, startNanos, end, before, end.last().orElseThrow().timeline());
      case UNCONFIRMED:
        return unconfirmed(
            standby,
            startNanos,
            timeout,
            before,
            end.last().map(o -> o.timeline()).orElse(OptionalLong.empty()),
            end.error(),
            end.last().map(o -> "role " + o.role() + " timeline " + o.timeline()).orElse("none"));
      case LOST:
      default:
        break;
    }
    // The session broke after pg_promote may have been sent: confirm with fresh probes (on a
    // lossy path they try several connections) until the timeout.
    ProbeResult after = null;
    while (System.nanoTime() < endNanos) {
      after = probeAll(List.of(standby), false, settings.deadline()).get(0);
      if (after.isPrimary()
          && after.timeline().isPresent()
          && after.timeline().getAsLong() > timelineBefore) {
        return confirmed(standby, startNanos, end, before, after.timeline());
      }
      LockSupport.parkNanos(Math.min(PROBE_AGAIN_NANOS, Math.max(0, endNanos - System.nanoTime())));
    }
    return unconfirmed(
        standby,
        startNanos,
        timeout,
        before,
        after == null ? OptionalLong.empty() : after.timeline(),
        "session lost: " + end.error(),
        after == null
            ? "no probe before the timeout"
            : after.reachable()
                ? "role " + after.role() + " timeline " + after.timeline()
                : after.reachability() + ": " + after.error().orElse(""));
  }

  /**
   * Out of recovery on a newer timeline. pg_promote reporting "not in recovery" means someone else
   * promoted the node between our probe and our call.
   */
  private PromotionResult confirmed(
      NodeEndpoint standby,
      long startNanos,
      SessionEnd end,
      ProbeResult before,
      OptionalLong after) {
    return finish(
        standby,
        startNanos,
        end.notInRecovery()
            ? PromotionResult.Outcome.ALREADY_PRIMARY
            : PromotionResult.Outcome.PROMOTED,
        before.timeline(),
        after,
        null);
  }

  private PromotionResult unconfirmed(
      NodeEndpoint standby,
      long startNanos,
      Duration timeout,
      ProbeResult before,
      OptionalLong after,
      String promoteStatus,
      String seen) {
    return finish(
        standby,
        startNanos,
        PromotionResult.Outcome.FAILED,
        before.timeline(),
        after,
        "promotion of "
            + standby.name()
            + " not confirmed within "
            + timeout
            + " (pg_promote: "
            + promoteStatus
            + "; last seen: "
            + seen
            + "); it may still complete: probe the node before acting again");
  }

  /** How a promotion session ended. */
  private enum SessionKind {
    /** pg_promote was not sent, or was refused before it signalled anything (see error). */
    NOT_SENT,
    /** pg_promote failed in a way that may come after the server signalled the promotion. */
    SEND_FAILED,
    /** Out of recovery on a newer timeline (last is that observation). */
    CONFIRMED,
    /** Sent, still not out of recovery on a newer timeline at the timeout. */
    UNCONFIRMED,
    /** The session broke after pg_promote may have been sent: the caller confirms by probing. */
    LOST
  }

  /**
   * @param error what pg_promote or the session reported: never null for a session that did not
   *     confirm (for UNCONFIRMED, the status of the pg_promote call)
   * @param notInRecovery pg_promote said recovery was not in progress: another promoted the node
   */
  private record SessionEnd(
      SessionKind kind, Optional<Observation> last, String error, boolean notInRecovery) {
    static SessionEnd of(SessionKind kind, String error) {
      return new SessionEnd(kind, Optional.empty(), error, false);
    }
  }

  /**
   * One connection that sends pg_promote and confirms it. It connects while the caller's probe
   * reads the node's role, so the promotion does not wait for a second login, then waits for {@link
   * #go} or {@link #callOff}. Sending and calling off race through one state: once calledOff wins,
   * pg_promote is never sent; once sending wins, the caller must treat the node as one that may be
   * promoted.
   *
   * <p>Why {@code wait => false} and a poll of our own: with {@code wait => true} the server checks
   * for the end of recovery only every 100 ms (WAITS_PER_SECOND in xlogfuncs.c), while promotion
   * itself takes tens of ms; and reading the result on the same session needs no new login.
   */
  private final class PromoteSession implements java.util.concurrent.Callable<SessionEnd> {
    private static final int WAITING = 0;
    private static final int SENDING = 1;
    private static final int CALLED_OFF = 2;

    private final NodeEndpoint node;
    private final long endNanos;
    private final AtomicInteger state = new AtomicInteger(WAITING);
    private final java.util.concurrent.CompletableFuture<Long> go =
        new java.util.concurrent.CompletableFuture<>();
    private final AtomicReference<Connection> open = new AtomicReference<>();

    PromoteSession(NodeEndpoint node, long endNanos) {
      this.node = node;
      this.endNanos = endNanos;
    }

    /** Lets the session send pg_promote for a standby seen on {@code timeline}. */
    void go(long timeline) {
      go.complete(timeline);
    }

    /** Stops a session that has not sent pg_promote; true when it never will. */
    boolean callOff() {
      if (state.compareAndSet(WAITING, CALLED_OFF)) {
        go.cancel(false);
        abort(open.get());
        return true;
      }
      return state.get() == CALLED_OFF;
    }

    /** The session's end, or at {@code untilNanos} the end as the caller can tell it. */
    SessionEnd await(Future<SessionEnd> running, long untilNanos) {
      try {
        return running.get(Math.max(0, untilNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        if (callOff()) {
          return SessionEnd.of(
              SessionKind.NOT_SENT, "no session within the promotion timeout; never sent");
        }
        abort(open.get());
        return SessionEnd.of(SessionKind.LOST, "no answer from the session before the timeout");
      } catch (ExecutionException e) {
        // call() turns SQL errors into values: anything here is a bug, reported rather than lost.
        log.error("event=promote_session_bug node={}", node.name(), e.getCause());
        return callOff()
            ? SessionEnd.of(SessionKind.NOT_SENT, NodeQueries.describe(e.getCause()))
            : SessionEnd.of(SessionKind.LOST, NodeQueries.describe(e.getCause()));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return callOff()
            ? SessionEnd.of(SessionKind.NOT_SENT, "interrupted")
            : SessionEnd.of(SessionKind.LOST, "interrupted");
      }
    }

    @Override
    public SessionEnd call() {
      Duration budget =
          Duration.ofNanos(Math.max(endNanos - System.nanoTime(), TimeUnit.SECONDS.toNanos(1)));
      try (Connection c = ProbeConnections.open(node, budget)) {
        open.set(c);
        long timelineBefore;
        try {
          timelineBefore = go.get();
        } catch (java.util.concurrent.CancellationException | ExecutionException e) {
          return SessionEnd.of(SessionKind.NOT_SENT, "called off");
        }
        if (!state.compareAndSet(WAITING, SENDING)) {
          return SessionEnd.of(SessionKind.NOT_SENT, "called off");
        }
        boolean notInRecovery = false;
        String status;
        try (Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT pg_promote(wait => false)")) {
          rs.next();
          // false: older servers could not signal the postmaster (now an error); wait and see.
          status = rs.getBoolean(1) ? "sent" : "returned false";
        } catch (SQLException e) {
          String sqlState = e.getSQLState();
          if ("42501".equals(sqlState)) {
            // insufficient_privilege: checked before the promote signal file is written.
            return SessionEnd.of(SessionKind.NOT_SENT, NodeQueries.describe(e));
          }
          // 55000 object_not_in_prerequisite_state: "recovery is not in progress".
          notInRecovery = "55000".equals(sqlState);
          if (!notInRecovery) {
            return SessionEnd.of(
                sqlState == null || sqlState.startsWith("08")
                    ? SessionKind.LOST
                    : SessionKind.SEND_FAILED,
                NodeQueries.describe(e));
          }
          status = NodeQueries.describe(e);
        }
        return confirm(c, timelineBefore, status, notInRecovery);
      } catch (SQLException | RuntimeException e) {
        return callOff()
            ? SessionEnd.of(SessionKind.NOT_SENT, NodeQueries.describe(e))
            : new SessionEnd(SessionKind.LOST, Optional.empty(), NodeQueries.describe(e), false);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return callOff()
            ? SessionEnd.of(SessionKind.NOT_SENT, "interrupted")
            : SessionEnd.of(SessionKind.LOST, "interrupted");
      }
    }

    /** Reads role and timeline with the probe's own query until promoted or the timeout. */
    private SessionEnd confirm(
        Connection c, long timelineBefore, String status, boolean notInRecovery) {
      Observation last;
      while (true) {
        try {
          last = NodeQueries.observe(c);
        } catch (SQLException e) {
          return new SessionEnd(
              SessionKind.LOST, Optional.empty(), NodeQueries.describe(e), notInRecovery);
        }
        if (last.role() == Role.PRIMARY
            && last.timeline().isPresent()
            && last.timeline().getAsLong() > timelineBefore) {
          return new SessionEnd(SessionKind.CONFIRMED, Optional.of(last), null, notInRecovery);
        }
        long left = endNanos - System.nanoTime();
        if (left <= 0) {
          return new SessionEnd(SessionKind.UNCONFIRMED, Optional.of(last), status, notInRecovery);
        }
        LockSupport.parkNanos(Math.min(CONFIRM_POLL_NANOS, left));
      }
    }
  }

  /** A promotion that ended before a timeline after it could be read: there is none to report. */
  private PromotionResult notPromoted(
      NodeEndpoint node,
      long startNanos,
      ProbeResult before,
      PromotionResult.Outcome outcome,
      String error) {
    return finish(node, startNanos, outcome, before.timeline(), OptionalLong.empty(), error);
  }

  private PromotionResult finish(
      NodeEndpoint node,
      long startNanos,
      PromotionResult.Outcome outcome,
      OptionalLong before,
      OptionalLong after,
      String error) {
    Duration elapsed = Duration.ofNanos(System.nanoTime() - startNanos);
    PromotionResult result =
        new PromotionResult(outcome, before, after, elapsed, Optional.ofNullable(error));
    if (result.error().isPresent()) {
      log.warn(
          "event=promote_failed node={} outcome={} timeline_before={} elapsed_ms={} error=\"{}\"",
          node.name(),
          outcome,
          format(before),
          elapsed.toMillis(),
          quoted(error));
    } else {
      log.info(
          "event=promote_finished node={} outcome={} timeline_before={} timeline_after={}"
              + " elapsed_ms={}",
          node.name(),
          outcome,
          format(before),
          format(after),
          elapsed.toMillis());
    }
    return result;
  }

  /** Keeps a free-text value inside its key="..." field. */
  private static String quoted(String text) {
    return text == null ? "" : text.replace('"', '\'').replace('\n', ' ');
  }

  private static String format(OptionalLong value) {
    return value.isPresent() ? Long.toString(value.getAsLong()) : "none";
  }

  private static void logResult(ProbeResult r) {
    if (!r.reachable()) {
      log.warn(
          "event=probe_failed node={} kind={} latency_ms={} error=\"{}\"",
          r.node(),
          r.reachability(),
          r.latency().toMillis(),
          quoted(r.error().orElse("")));
    } else if (r.writeCheck().isPresent() && !r.writeCheck().get().ok()) {
      log.warn(
          "event=write_check_failed node={} latency_ms={} error=\"{}\"",
          r.node(),
          r.latency().toMillis(),
          quoted(r.writeCheck().get().error().orElse("")));
    } else if (log.isDebugEnabled()) {
      log.debug(
          "event=probe_ok node={} role={} timeline={} latency_ms={}",
          r.node(),
          r.role(),
          format(r.timeline()),
          r.latency().toMillis());
    }
  }

  /** A reachable result from one observation (also the probe benchmark's). */
  static ProbeResult reachableResult(
      String node,
      Instant observedAt,
      Duration latency,
      Observation o,
      Optional<WriteCheck> check) {
    return new ProbeResult(
        node,
        observedAt,
        latency,
        Reachability.REACHABLE,
        Optional.empty(),
        o.role(),
        o.timeline(),
        o.currentLsn(),
        o.receiveLsn(),
        o.replayLsn(),
        o.walReceiver(),
        Optional.of(o.serverVersion()),
        check,
        Optional.of(new ProbeResult.ServerSettings(o.writesStopped(), o.synchronousStandbyNames())),
        o.replicas());
  }

  private static void abort(Connection c) {
    if (c == null) {
      return;
    }
    try {
      c.abort(
          Runnable::run); // closes the socket without waiting for the server; unblocks a stuck read
    } catch (SQLException | RuntimeException e) {
      log.debug("event=probe_abort_failed error=\"{}\"", e.toString());
    }
  }

  /** Stops the worker threads and drops the watch's sessions; probes after close report OTHER. */
  @Override
  public void close() {
    synchronized (this) {
      new ArrayList<>(watched.keySet()).forEach(this::drop);
    }
    workers.shutdownNow();
  }

  /**
   * One probe of one node: up to {@value #TRIES} connections ("tries"), each on a worker thread, a
   * new one started every {@code deadline / TRIES} while none has finished, the first answer wins
   * and the rest are abandoned at the deadline.
   *
   * <p>Why several: over a lossy path one lost SYN or SYN-ACK costs TCP's initial retransmission
   * timeout (1 s), the whole default deadline, and a login takes about five round trips more. One
   * connection per probe failed 4 probes in 5 under 30 % loss (measured on the netns lab), so three
   * failed probes in a row said nothing about the primary. A healthy node answers the first try in
   * milliseconds, so the others are never started; a refused connection ends the probe at once; a
   * silent host is reported at the same deadline as before.
   */
  private final class Attempt {
    private final NodeEndpoint node;
    private final Instant observedAt;
    private final long startNanos;
    private final boolean writeCheck;
    private final Duration deadline;
    private final List<Try> tries = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final java.util.concurrent.BlockingQueue<Try> finished =
        new java.util.concurrent.LinkedBlockingQueue<>();

    Attempt(
        NodeEndpoint node,
        Instant observedAt,
        long startNanos,
        boolean writeCheck,
        Duration deadline) {
      this.deadline = deadline;
      this.node = node;
      this.observedAt = observedAt;
      this.startNanos = startNanos;
      this.writeCheck = writeCheck;
      launch();
    }

    private void launch() {
      Duration left = deadline.minusNanos(System.nanoTime() - startNanos);
      Try t = new Try(left.isNegative() ? Duration.ZERO : left);
      tries.add(t);
      t.submit();
    }

    ProbeResult await(long deadlineNanos) {
      long every = deadline.toNanos() / TRIES;
      long nextTry = startNanos + every;
      ProbeResult definitive = null;
      try {
        while (true) {
          long now = System.nanoTime();
          if (now >= deadlineNanos) {
            return definitive != null ? definitive : timedOut();
          }
          boolean more = definitive == null && tries.size() < TRIES;
          Try done =
              finished.poll(
                  Math.max(0, (more ? Math.min(nextTry, deadlineNanos) : deadlineNanos) - now),
                  TimeUnit.NANOSECONDS);
          if (done != null) {
            ProbeResult r = done.result;
            if (r != null && r.reachable()) {
              abandonAll();
              return r;
            }
            if (r != null && r.reachability() != Reachability.TIMEOUT && definitive == null) {
              // The server or its host answered (refused, auth, starting up...): no more tries.
              definitive = r;
            }
            if (tries.stream().allMatch(t -> t.result != null || t.abandoned.get())) {
              if (definitive != null) {
                return definitive;
              }
              if (tries.size() == TRIES) {
                return timedOut();
              }
            }
          } else if (definitive == null
              && tries.size() < TRIES
              && System.nanoTime() >= nextTry
              && System.nanoTime() < deadlineNanos) {
            launch();
            nextTry += every;
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        abandonAll();
        return failure(Reachability.OTHER, "interrupted");
      }
    }

    private ProbeResult timedOut() {
      abandonAll();
      for (Try t : tries) {
        Observation o = t.observation;
        if (o != null) {
          // Reads answered but the heartbeat write did not finish: reachable, yet it cannot write
          // in time.
          return reachable(
              o,
              Optional.of(
                  WriteCheck.failed(
                      "write check did not finish within the probe deadline " + deadline)),
              elapsed());
        }
      }
      if (tries.stream().anyMatch(t -> t.watch.answered())) {
        return failure(
            Reachability.SLOW,
            "the server answered but the probe did not finish within the deadline "
                + deadline
                + " ("
                + tries.size()
                + (tries.size() == 1 ? " connection" : " connections")
                + "): alive, the path or the server is slow");
      }
      return failure(
          Reachability.TIMEOUT,
          "no answer within the probe deadline "
              + deadline
              + " (connect, login and queries; "
              + tries.size()
              + (tries.size() == 1 ? " connection" : " connections")
              + ")");
    }

    private void abandonAll() {
      tries.forEach(Try::abandon);
    }

    private Duration elapsed() {
      return Duration.ofNanos(System.nanoTime() - startNanos);
    }

    private ProbeResult reachable(Observation o, Optional<WriteCheck> check, Duration latency) {
      return reachableResult(node.name(), observedAt, latency, o, check);
    }

    private ProbeResult failure(Reachability kind, String error) {
      return ProbeResult.unreachable(node.name(), observedAt, elapsed(), kind, error);
    }

    /** One connection of the probe. */
    private final class Try {
      private final Duration budget;
      private final AnswerWatch.Handle watch = AnswerWatch.open();
      private final AtomicReference<Connection> connection = new AtomicReference<>();
      private final AtomicBoolean abandoned = new AtomicBoolean();
      private volatile Observation observation;
      private volatile ProbeResult result;
      private Future<?> future;

      Try(Duration budget) {
        this.budget = budget;
      }

      void submit() {
        try {
          future = workers.submit(this::run);
        } catch (RejectedExecutionException e) {
          result = failure(Reachability.OTHER, "the probe is closed");
          watch.close();
          finished.add(this);
        }
      }

      private void run() {
        Connection c = null;
        try {
          c = ProbeConnections.open(node, budget.isZero() ? deadline : budget, watch);
          connection.set(c);
          if (abandoned.get()) {
            abort(c); // the caller gave up while we were connecting
            return;
          }
          Observation o = NodeQueries.observe(c);
          observation = o;
          Optional<WriteCheck> check =
              writeCheck && o.role() == Role.PRIMARY
                  ? Optional.of(
                      NodeQueries.writeCheck(c, node.name(), settings.writeCheckTimeout()))
                  : Optional.empty();
          result = reachable(o, check, elapsed());
        } catch (Exception e) {
          result = failure(FailureClassifier.classify(e), NodeQueries.describe(e));
        } finally {
          if (c != null) {
            try {
              c.close();
            } catch (SQLException | RuntimeException e) {
              log.debug("event=probe_close_failed node={} error=\"{}\"", node.name(), e.toString());
            }
          }
          noteHeard();
          watch.close();
          finished.add(this);
        }
      }

      void abandon() {
        abandoned.set(true);
        noteHeard(); // what it heard by the time the probe gave up on it
        if (future != null) {
          future.cancel(true);
        }
        abort(connection.get());
        watch.close(); // a try cancelled before it ran never closes it itself
      }

      private void noteHeard() {
        watch
            .lastAnswerNanos()
            .ifPresent(t -> heardOnProbe.merge(node.name(), t, (a, b) -> a - b >= 0 ? a : b));
      }
    }
  }
}
