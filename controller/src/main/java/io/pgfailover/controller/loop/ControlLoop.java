package io.pgfailover.controller.loop;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.Action;
import io.pgfailover.controller.decide.Decider;
import io.pgfailover.controller.decide.Decision;
import io.pgfailover.controller.decide.History;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.decide.Snapshot;
import io.pgfailover.controller.decide.VirtualIpRoute;
import io.pgfailover.controller.events.ControllerState;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.Ports;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.VirtualIpRoutes;
import io.pgfailover.probe.Reachability;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control loop: observe (probe every node in parallel, read the route tables from a cache
 * refreshed on a slower interval and after every change), decide (the pure {@link Decider}), act
 * (the {@link Actuator}). Operator requests are queued and run by the loop's own thread, so two
 * actors never race.
 */
public final class ControlLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlLoop.class);

  private final ControllerConfig config;
  private final PostgresNodes nodes;
  private final NodeAgents agents;
  private final RejoinWatch rejoinWatch;
  private final VirtualIpRoutes routes;
  private final EventLog events;
  private final Metrics metrics;
  private final Clock clock;
  private final Decider decider;
  private final Actuator actuator;
  private final Alarms alarms;
  private final Leadership leadership;
  private final Optional<io.pgfailover.controller.port.NatEgress> nat;
  private final Optional<NatWatch> natWatch;
  private final ExecutorService probePool;
  private final ConcurrentLinkedQueue<Pending> requests = new ConcurrentLinkedQueue<>();

  /**
   * Released by {@link #submit}: an operator's request starts the next loop at once, not after the
   * pause.
   */
  private final java.util.concurrent.Semaphore wakeup = new java.util.concurrent.Semaphore(0);

  /** How many events a restart reads back when no state file exists (an upgrade). */
  static final int SEED_EVENTS = 500;

  private History history = History.empty();

  /** The newest timeline as last saved to (or read from) the state file beside the history. */
  private Optional<ControllerState> savedState;

  private boolean stateWriteFailing;
  private final StartReport startReport;

  /**
   * What the start found in the controller's files, reported by {@link #run} (the daemon) only:
   * {@code status} reads but never writes.
   */
  private record StartReport(
      String seededFrom, EventLog.Tail tail, Optional<String> stateProblem) {}

  private List<VirtualIpRoute> cachedRoutes = List.of();
  private Instant routesReadAt = Instant.MIN;
  private boolean routesStale = true;
  private volatile LoopReport last;

  /** When (System.nanoTime) the last observation's probes began: the loop's next starts from it. */
  private long observationBegan;

  private final java.util.concurrent.atomic.AtomicLong loops =
      new java.util.concurrent.atomic.AtomicLong();
  private String lastSentence = "";

  private record Pending(Request request, Instant arrived, CompletableFuture<LoopReport> result) {}

  /**
   * The one constructor; {@code Wiring.loop} builds the production loops from the configuration.
   *
   * @param leadership the controller pair's lease ({@link Leadership#single()} alone): every loop
   *     ticks it, and only the leader acts
   * @param ports what the loop acts through; with {@code natEgress} present (and a {@code nat:}
   *     block) it also watches the peer NAT instance (see {@link NatWatch})
   */
  public ControlLoop(
      ControllerConfig config,
      Ports ports,
      EventLog events,
      Metrics metrics,
      Clock clock,
      Leadership leadership) {
    this.config = config;
    this.leadership = leadership;
    this.nat = config.nat().isPresent() ? ports.natEgress() : Optional.empty();
    this.natWatch = this.nat.isPresent() ? config.nat().map(NatWatch::new) : Optional.empty();
    if (leadership.paired()) {
      events.annotate(
          () -> Map.of("lease_token", leadership.token(), "leader", leadership.holdsLease()));
    }
    this.nodes = ports.postgres();
    this.agents = ports.agents();
    this.rejoinWatch = new RejoinWatch(events);
    this.routes = ports.routes();
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    this.decider = new Decider(config);
    this.actuator =
        new Actuator(
            config,
            new Ports(nodes, routes, ports.fencer(), ports.agents(), this.nat),
            events,
            metrics,
            clock,
            leadership);
    this.alarms = new Alarms(events, metrics);
    this.probePool =
        Executors.newFixedThreadPool(
            // a probe and an agent's facts per node, at once, and as many still running from a loop
            // that stopped waiting for them
            config.nodes().size() * 4,
            r -> {
              Thread t = new Thread(r, "probe");
              t.setDaemon(true);
              return t;
            });
    // The state file is the record of the newest timeline; the event history only stands in for
    // it after an upgrade (no state file yet). Both reads are bounded.
    EventLog.Tail tail = events.readTail(SEED_EVENTS);
    Optional<String> stateProblem = Optional.empty();
    Optional<ControllerState> state;
    try {
      state = ControllerState.read(events.config().stateFile(), config.cluster());
    } catch (java.io.IOException e) {
      state = Optional.empty();
      stateProblem = Optional.of(e.getMessage());
    }
    this.savedState = state;
    this.history =
        state
            .map(s -> History.empty().seedTimeline(s.highestTimeline(), s.lastPrimary()))
            .orElseGet(() -> seedFromEvents(tail.events()));
    this.startReport =
        new StartReport(state.isPresent() ? "state_file" : "event_log", tail, stateProblem);
  }

  /**
   * Queue an operator request; the loop runs it on its next iteration (or {@link #runOnce} does).
   */
  public CompletableFuture<LoopReport> submit(Request request) {
    Pending p = new Pending(request, clock.instant(), new CompletableFuture<>());
    requests.add(p);
    wakeup.release();
    return p.result();
  }

  /**
   * Runs loops until {@code keepGoing} says stop, one per probe interval (sooner for an operator's
   * request).
   */
  public void run(BooleanSupplier keepGoing) throws InterruptedException {
    Map<String, Object> started = new LinkedHashMap<>();
    started.put("nodes", config.nodes().stream().map(NodeConfig::name).toList());
    started.put("route_tables", config.routeTables());
    started.put("highest_timeline", history.highestPrimaryTimeline());
    started.put("timeline_from", startReport.seededFrom());
    events.append("controller_started", started);
    reportStart();
    try (Leadership.Watch watch = leadership.watchInBackground()) {
      loop(keepGoing);
    }
  }

  private void loop(BooleanSupplier keepGoing) throws InterruptedException {
    Optional<WatchProbe> watchFailed = Optional.empty();
    while (keepGoing.getAsBoolean()) {
      // After a failed watch probe the loop runs at once, as if it had begun with that probe: the
      // next one comes an interval after it began.
      long start = watchFailed.map(WatchProbe::beganNanos).orElseGet(System::nanoTime);
      try {
        runOnce(watchFailed);
        // A watch probe during the loop's own probe may have become its probe of the primary.
        start = Math.max(start, observationBegan);
      } catch (RuntimeException e) {
        // A bug, not an outage: log it loudly and keep watching; the next loop starts from fresh
        // observations.
        log.error("event=loop_bug error=\"{}\"", e.toString(), e);
        metrics.count(
            "pgfailover_loop_errors_total", "Loops that ended in an unexpected exception.", "");
      }
      Duration left = config.probe().interval().minusNanos(System.nanoTime() - start);
      // A follower wakes when the leader's lease may be taken over, not up to one interval later;
      // one probe timeout earlier, so that the observation a takeover acts on (which waits out a
      // probe timeout when the old primary is cut off with its controller) is taken while the
      // lease runs out rather than after: runOnce observes, then its tick waits for the takeover
      // and the loop decides and acts on it in the same iteration.
      Optional<Duration> takeover = leadership.takeoverDueIn().map(this::observeAhead);
      if (takeover.isPresent() && takeover.get().compareTo(left) < 0) {
        left = takeover.get();
      }
      wakeup.drainPermits();
      watchFailed = Optional.empty();
      if (!left.isNegative() && requests.isEmpty()) {
        watchFailed = pause(left);
      }
    }
  }

  /**
   * A watch probe of the primary (between loops: one that found it failing), and when it began and
   * ended.
   */
  private record WatchProbe(
      Instant at, long beganNanos, long endedNanos, NodeObservation primary) {}

  /**
   * The pause between loops, cut short by an operator's request. While the last loop saw the
   * primary answering and this controller leads, it probes the primary meanwhile every quarter
   * interval (the watch): a fault then meets a probe within a quarter interval, not up to a whole
   * one later, which was the largest single part of a cut-off or frozen primary's detection. A
   * failed watch probe is the loop's probe of the primary as far as {@link History} counts, and the
   * next loop starts one interval after it began, as after a failed probe of the loop's own: failed
   * probes stay an interval apart, so the failure threshold means what it did. Where one failed
   * probe and a standby host's agreement confirm ({@code failureThreshold} 2 or less, and a node
   * agent on another node), it ends the pause instead: the loop that follows at once takes it as
   * its probe of the primary and decides (at a higher threshold, or without an agent to agree, such
   * a loop could decide nothing, and its observing would only delay the next). The watch's session
   * reports a late answer as a timeout, never {@code slow}; it weighs no more than the loop's own
   * probe: a failure that needs the others' agreement. A watch probe that answered changes nothing
   * (the next loop observes everything anyway); one that waits out its timeout may end the pause up
   * to that much late, and is then a failed probe.
   */
  private Optional<WatchProbe> pause(Duration left) throws InterruptedException {
    long now = System.nanoTime();
    long until = now + left.toNanos();
    Optional<NodeConfig> watched = watchedPrimary();
    log.debug(
        "event=pause ms={} watching={}", left.toMillis(), watched.map(NodeConfig::name).orElse(""));
    // Sessions opened now are ready by the first watch probe, a quarter interval on. Without them
    // that probe is a full one (a new login): a fault inside it left it slow, and the next probe a
    // whole timeout late, in 6 of 60 debug-logged freeze drills, each at the first watch after the
    // controller started.
    watched.ifPresent(nodes::openWatch);
    long every = config.probe().watchEvery().toNanos();
    while (now < until) {
      long waitNanos = watched.isPresent() ? Math.min(until - now, every) : until - now;
      if (wakeup.tryAcquire(waitNanos, TimeUnit.NANOSECONDS)) {
        return Optional.empty();
      }
      long began = System.nanoTime();
      if (watched.isPresent() && began < until) {
        Instant at = clock.instant();
        try {
          NodeObservation o = nodes.watch(watched.get());
          countProbe(o);
          log.debug(
              "event=watch_probe node={} answered={} ms={}",
              o.node(),
              o.answered(),
              (System.nanoTime() - began) / 1_000_000);
          if (!o.answered() && oneFailureMayConfirm(o.node())) {
            log.warn(
                "event=primary_watch_failed node={} kind={} loop=now",
                o.node(),
                o.failure().map(NodeObservation::text).orElse("other"));
            return Optional.of(new WatchProbe(at, began, System.nanoTime(), o));
          }
          if (!o.answered()) {
            until = began + config.probe().interval().toNanos();
            watchFailed(at, o, Duration.ofNanos(Math.max(0, until - System.nanoTime())));
            watched = Optional.empty();
          }
        } catch (RuntimeException e) {
          // A bug, not an outage (probes never throw): the pause goes on without the watch.
          log.error("event=watch_bug error=\"{}\"", e.toString(), e);
          watched = Optional.empty();
        }
      }
      now = System.nanoTime();
    }
    return Optional.empty();
  }

  /** One failed probe of {@code primary} and a standby host's agreement reach the threshold. */
  private boolean oneFailureMayConfirm(String primary) {
    return config.probe().failureThreshold() <= 2
        && config.nodes().stream().anyMatch(n -> !n.name().equals(primary) && agents.has(n.name()));
  }

  /**
   * The primary the last loop saw answering, for the watch: none while it is failing, while several
   * claim to be primary, or when this controller does not lead (a follower's pause ends at the
   * lease's takeover, which a watch probe's timeout could delay).
   */
  private synchronized Optional<NodeConfig> watchedPrimary() {
    LoopReport r = last;
    if (r == null || !leadership.leads()) {
      return Optional.empty();
    }
    List<NodeObservation> primaries =
        r.snapshot().nodes().values().stream().filter(NodeObservation::isPrimary).toList();
    if (primaries.size() != 1 || history.failures(primaries.get(0).node()) != 0) {
      return Optional.empty();
    }
    return config.nodes().stream()
        .filter(n -> n.name().equals(primaries.get(0).node()))
        .findFirst();
  }

  /** A failed watch probe, counted as the next loop will count its own. */
  private synchronized void watchFailed(Instant at, NodeObservation o, Duration nextLoopIn) {
    Instant end = clock.instant();
    history =
        history.next(
            new Snapshot(
                at, end.isBefore(at) ? at : end, Map.of(o.node(), o), List.of(), Map.of()));
    log.warn(
        "event=primary_watch_failed node={} kind={} failures={} next_loop_in_ms={}",
        o.node(),
        o.failure().map(NodeObservation::text).orElse("other"),
        history.failures(o.node()),
        nextLoopIn.toMillis());
  }

  /** The wait before a takeover's loop: a probe timeout less, unless that is all that is left. */
  private Duration observeAhead(Duration dueIn) {
    Duration ahead = config.probe().timeout();
    return dueIn.compareTo(ahead) > 0 ? dueIn.minus(ahead) : dueIn;
  }

  /**
   * One observe → decide → act iteration; serves at most one pending operator request. The lease is
   * ticked after observing: a follower that takes it over acts on an observation it took while the
   * old lease ran out (the acting window is checked again before every action anyway). The tick
   * waits up to a probe timeout for a takeover due by then (the loop woke that much ahead of it),
   * so that this iteration decides and acts as the new leader.
   */
  public LoopReport runOnce() {
    return runOnce(Optional.empty());
  }

  /**
   * @param watchFailed a failed watch probe of the primary just now: this loop's probe of it
   */
  private synchronized LoopReport runOnce(Optional<WatchProbe> watchFailed) {
    Pending pending = requests.poll();
    Snapshot snapshot = observe(watchFailed);
    leadership.tick(config.probe().timeout());
    // A single controller always leads: the gauge says who acts, pair or not.
    metrics.gauge(
        "pgfailover_leader",
        "1 while this controller may act: it holds the pair's lease, or runs alone.",
        "",
        leadership.leads() ? 1 : 0);
    if (leadership.paired()) {
      metrics.gauge(
          "pgfailover_lease_token",
          "The fencing token this controller holds, else the highest it has seen.",
          "",
          leadership.token());
    }
    replication(snapshot);
    rejoinWatch.observe(snapshot.agents());
    history = history.next(snapshot);
    saveState();
    Decision decision =
        pending == null
            ? decider.decide(snapshot, history)
            : decider.decide(snapshot, history, pending.request());
    say(decision, pending);
    Instant timelineStart =
        pending != null
            ? pending.arrived()
            : history.lastPrimary().map(p -> history.failingSince().get(p)).orElse(clock.instant());
    alarms.update(
        decision.actions().stream()
            .filter(a -> a instanceof Action.Alarm)
            .map(a -> (Action.Alarm) a)
            .toList(),
        clock.instant());
    boolean force = pending != null && pending.request() instanceof Request.Failover f && f.force();
    Actuator.Outcome outcome;
    if (!decision.mutates()) {
      outcome = Actuator.Outcome.nothing();
    } else if (!leadership.leads() && pending == null) {
      // A follower decides like the leader (so it is ready to take over) but leaves acting to the
      // leader.
      outcome =
          new Actuator.Outcome(
              true,
              List.of(new Step("not acting", Step.Status.SKIPPED, leadership.view().detail())),
              Optional.empty(),
              Optional.empty());
    } else {
      outcome =
          actuator.execute(
              decision, timelineStart == null ? clock.instant() : timelineStart, force);
    }
    if (decision.mutates()) {
      routesStale = true;
    }
    // A primary that answered the pre-promotion re-check is not failing: without this its failure
    // count kept
    // growing and the next loop tried to promote again at once (seen under 30 % packet loss: two
    // aborts, then
    // a promotion beside a live primary).
    outcome
        .primaryBack()
        .ifPresent(
            o ->
                history =
                    history.next(new Snapshot(clock.instant(), Map.of(o.node(), o), List.of())));
    LoopReport report =
        new LoopReport(
            snapshot.at(),
            snapshot,
            decision,
            outcome.ok(),
            outcome.steps(),
            outcome.timeline(),
            history.consecutiveFailures());
    last = report;
    loops.incrementAndGet();
    metrics.gauge(
        "pgfailover_last_loop_timestamp_seconds",
        "When the last loop ended (Unix time).",
        "",
        clock.instant().toEpochMilli() / 1000.0);
    if (pending != null) {
      pending.result().complete(report);
    }
    watchPeerNat();
    return report;
  }

  /**
   * After the database's turn: the peer NAT's health and, when it is gone, its AZ's egress routes.
   */
  private void watchPeerNat() {
    if (nat.isEmpty()) {
      return;
    }
    io.pgfailover.controller.port.NatEgress.PeerHealth health = nat.get().checkPeer();
    natWatch
        .get()
        .next(health, nat.get().egressHolder())
        .ifPresent(
            action -> {
              log.warn(
                  "event=nat_egress_move to={} instance={} why=\"{}\"",
                  action.to(),
                  action.instanceId(),
                  action.why());
              actuator.egress(action);
            });
  }

  /**
   * Observe and decide without acting or writing history: what {@code failoverctl status} shows
   * when no daemon runs.
   */
  public synchronized LoopReport peek() {
    Snapshot snapshot = observe(Optional.empty());
    History h = history.next(snapshot);
    Decision decision = decider.decide(snapshot, h);
    return new LoopReport(
        snapshot.at(),
        snapshot,
        decision,
        true,
        List.of(),
        Optional.empty(),
        h.consecutiveFailures());
  }

  public Optional<LoopReport> last() {
    return Optional.ofNullable(last);
  }

  /** How many loops have finished (observe, decide, act). */
  public long loops() {
    return loops.get();
  }

  public History history() {
    return history;
  }

  /** This controller's place in the pair (SINGLE without a lease). */
  public Leadership leadership() {
    return leadership;
  }

  /**
   * @param watchFailed the primary's failed watch probe, taken as this observation's probe of it
   *     (the observation then begins when that probe began)
   */
  private Snapshot observe(Optional<WatchProbe> watchFailed) {
    Instant at = watchFailed.map(WatchProbe::at).orElseGet(clock::instant);
    long began = watchFailed.map(WatchProbe::beganNanos).orElseGet(System::nanoTime);
    Optional<NodeObservation> seen = watchFailed.map(WatchProbe::primary);
    Map<String, Future<NodeObservation>> futures = new LinkedHashMap<>();
    Map<String, Future<Answer>> asked = new LinkedHashMap<>();
    // A primary failing its probes is probed on its kept-open sessions (PostgresNodes.watch): a
    // query that got no answer there in time is awaited once more, and an answer then shows it
    // alive. A lossy path delivers that answer late; a cut-off, crashed or frozen primary never
    // does. A new login on a path that loses a third of its packets failed often enough that
    // runs of failed probes alone came close to a failover (the flapping-link test).
    Optional<String> failing = history.lastPrimary().filter(p -> history.failures(p) > 0);
    observationBegan = began;
    for (NodeConfig n : config.nodes()) {
      boolean onSession = failing.filter(n.name()::equals).isPresent();
      futures.put(
          n.name(),
          seen.filter(o -> o.node().equals(n.name()))
              .<Future<NodeObservation>>map(CompletableFuture::completedFuture)
              .orElseGet(
                  () -> probePool.submit(() -> onSession ? nodes.watch(n) : nodes.probe(n))));
      // Not the failing primary's own agent after its failed watch probe: the decision does not
      // read it, and a cut-off host's agent would hold this loop a whole read timeout.
      if (agents.has(n.name()) && seen.filter(o -> o.node().equals(n.name())).isEmpty()) {
        asked.put(n.name(), ask(n.name()));
      }
    }
    // After the primary's failed watch probe a failover may follow, and it needs the route tables:
    // read them now, while the others' probes and agents answer, not after.
    boolean routesReadAhead = seen.isPresent();
    if (routesReadAhead) {
      readRoutes(at);
    }
    // The probes bound themselves; this outer wait only guards against a probe that breaks its
    // contract.
    long waitMs = config.probe().timeout().toMillis() * 2 + 500;
    Optional<NodeConfig> answering =
        seen.isEmpty() && failing.isEmpty() ? watchedPrimary() : Optional.empty();
    Optional<WatchProbe> watchedMeanwhile =
        answering.flatMap(p -> watchWhileProbing(p, futures.get(p.name()), waitMs));
    Map<String, NodeObservation> observed = observations(futures, waitMs);
    observed.values().stream()
        .filter(o -> seen.filter(o::equals).isEmpty())
        .forEach(this::countProbe);
    if (watchedMeanwhile.isPresent()) {
      NodeObservation watch = watchedMeanwhile.get().primary();
      NodeObservation full = observed.get(watch.node());
      long watchBegan = watchedMeanwhile.get().beganNanos();
      if (full.answered()
          && !watch.answered()
          && nodes.lastHeard(answering.orElseThrow()).stream()
              .anyMatch(heard -> heard - watchBegan < 0)) {
        // Slow, or answered but its write check waited out the deadline: its server fell silent on
        // the full probe's connections before the watch probe began, and on its sessions since:
        // the fault fell inside the full probe (a freeze during the write check left it
        // "reachable", and the next probe a second late, in a freeze drill). Over a lossy path the
        // full probe's connections go on hearing their server, late: no failure. The watch probe
        // is this loop's probe of the primary, as a failed one between loops is: observe again
        // from when it began (the others' answers from before it describe the cluster before the
        // fault).
        log.warn(
            "event=primary_watch_failed node={} kind={} during=full_probe loop=now",
            watch.node(),
            watch.failure().map(NodeObservation::text).orElse("other"));
        return observe(watchedMeanwhile);
      }
      if (!full.answered() && watch.answered()) {
        // No answer to the full probe, but one on the sessions since it began: alive (a lossy path
        // lost the new connection's packets).
        observed.put(watch.node(), watch);
      }
    }
    // The primary's own agent (the node answering as primary now, else the last one) is read for
    // status and rejoin bookkeeping, never for a decision about the primary: it is not waited for
    // much beyond the others, nor asked again. A cut-off primary's agent answered only at its read
    // timeout, and held a loop whose probes had finished for that long (no watch meanwhile: a
    // second late).
    Optional<String> primary =
        observed.values().stream()
            .filter(NodeObservation::isPrimary)
            .map(NodeObservation::node)
            .findFirst()
            .or(history::lastPrimary);
    Map<String, Future<Answer>> primaryAgent = new LinkedHashMap<>();
    primary.filter(asked::containsKey).ifPresent(p -> primaryAgent.put(p, asked.remove(p)));
    Map<String, Answer> facts = answers(asked, waitMs);
    // Only where that agreement can confirm: at a higher threshold the wait would only delay.
    watchFailed
        .filter(w -> oneFailureMayConfirm(w.primary().node()))
        .ifPresent(w -> askAgainWhileProbing(w, facts, waitMs));
    Map<String, Answer> primaryFacts =
        answers(primaryAgent, config.probe().timeout().dividedBy(10).toMillis());
    long probedNanos = System.nanoTime();
    // A probe that failed may have waited out its whole timeout, so the agents' answers asked with
    // it describe the cluster before that wait. The active witness asks whether a standby's host
    // failed to reach the primary too over the same time: ask the agents that answered once more,
    // now, rather than a whole loop later.
    // Likewise the standbys: what their WAL receivers last heard from the primary, read at the
    // start of that wait, is read again at its end.
    // A failed watch probe waited before this observation began: what was asked with the others'
    // probes is already from after it.
    Map<String, Future<Answer>> again = new LinkedHashMap<>();
    Map<String, Future<NodeObservation>> standbys = new LinkedHashMap<>();
    if (observed.values().stream()
        .anyMatch(o -> !o.answered() && seen.filter(o::equals).isEmpty())) {
      facts.forEach(
          (name, answer) -> {
            if (answer.reply().ok()) {
              again.put(name, ask(name));
            }
          });
      for (NodeConfig n : config.nodes()) {
        if (observed.get(n.name()).isStandby()) {
          standbys.put(n.name(), probePool.submit(() -> nodes.probe(n)));
        }
      }
    }
    // The route tables are read while the agents answer again: both are on a failover's path.
    boolean noPrimary = observed.values().stream().noneMatch(NodeObservation::isPrimary);
    if (!routesReadAhead
        && (routesStale
            || noPrimary
            || !at.isBefore(routesReadAt.plus(config.probe().routeRefresh())))) {
      readRoutes(at);
    }
    facts.putAll(answers(again, waitMs));
    // The loop's own probe of the primary failed: as after a failed watch probe, an agent whose
    // own probe is under way is asked again once that has ended (a cut drill's fault fell inside
    // the loop's probe, which failed at once, and the failover waited for the next loop).
    history
        .lastPrimary()
        .filter(p -> seen.isEmpty() && oneFailureMayConfirm(p))
        .map(observed::get)
        .filter(o -> !o.answered())
        .ifPresent(
            o -> askAgainWhileProbing(new WatchProbe(at, began, probedNanos, o), facts, waitMs));
    observations(standbys, waitMs)
        .forEach(
            (name, o) -> {
              if (o.isStandby()) {
                observed.put(name, o);
              }
            });
    facts.putAll(primaryFacts);
    Instant until = clock.instant();
    log.debug(
        "event=observed watch_failed={} probes_ms={} again_ms={} asked_again={} reprobed={}",
        seen.isPresent(),
        (probedNanos - began) / 1_000_000,
        (System.nanoTime() - probedNanos) / 1_000_000,
        again.size(),
        standbys.size());
    Map<String, NodeAgents.Reply<NodeAgents.Facts>> replies = new LinkedHashMap<>();
    facts.forEach((name, a) -> replies.put(name, a.asOf(until)));
    return new Snapshot(at, until, observed, cachedRoutes, replies);
  }

  private void readRoutes(Instant at) {
    cachedRoutes = routes.read();
    routesReadAt = at;
    routesStale = cachedRoutes.stream().anyMatch(r -> r.status() == VirtualIpRoute.Status.UNKNOWN);
    if (routesStale) {
      metrics.count(Actuator.EC2_CALL_ERRORS, Actuator.EC2_CALL_ERRORS_HELP, "");
    }
  }

  /**
   * After a failed probe of the primary (a watch probe, or the loop's own): a standby host's agent
   * probes it as often, a quarter interval apart, so its probe begun after the fault ends the same
   * way (refused, or a timeout as long) within a quarter interval of the watch probe's end. An
   * agent whose probe is still waiting then (no failed probe yet, nothing heard since the watch
   * probe began) agrees to nothing, and the failover waited for the next loop's probe, a whole
   * timeout more (the cut and freeze drills at {@code fast}). Such agents are asked again once
   * their probe has ended (below); the others' answers stand (agreement, or a reach since, which no
   * wait changes).
   */
  private void askAgainWhileProbing(WatchProbe watch, Map<String, Answer> facts, long waitMs) {
    NodeConfig primary =
        config.nodes().stream()
            .filter(n -> n.name().equals(watch.primary().node()))
            .findFirst()
            .orElseThrow();
    String target = primary.host() + ":" + primary.port();
    long every = config.probe().watchEvery().toNanos();
    // A quarter interval after the failed probe ended, then every eighth of an interval while the
    // agent's probe is still under way: a refused primary refuses the agent at once too, but a
    // cut-off one refused the loop's new connection at once (no route to it) while the agent's
    // probe, on its open sessions, waited out its timeout. Never past what the next loop costs.
    long until = watch.beganNanos() + config.probe().timeout().toNanos() + 2 * every;
    long next = watch.endedNanos() + every;
    List<String> probing = probing(watch, target, facts, facts.keySet());
    while (!probing.isEmpty() && next <= until) {
      long waitNanos = next - System.nanoTime();
      log.debug(
          "event=agents_probing agents={} ask_again_in_ms={}", probing, waitNanos / 1_000_000);
      if (waitNanos > 0) {
        try {
          TimeUnit.NANOSECONDS.sleep(waitNanos);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      Map<String, Future<Answer>> again = new LinkedHashMap<>();
      probing.forEach(name -> again.put(name, askUpstream(name, facts.get(name))));
      facts.putAll(answers(again, waitMs));
      probing = probing(watch, target, facts, probing);
      next = Math.max(next, System.nanoTime()) + every / 2;
    }
  }

  /**
   * Of {@code names}, the agents whose own probe of {@code target} is under way: no failed probe,
   * nothing heard since the failed probe began, give or take what a live primary takes to answer,
   * as the decider reckons the agent's silence (and an answer's way back from the agent, which
   * makes its ages look younger than they are).
   */
  private List<String> probing(
      WatchProbe failed,
      String target,
      Map<String, Answer> facts,
      java.util.Collection<String> names) {
    return names.stream()
        .filter(
            name -> {
              Answer a = facts.get(name);
              long sinceFailedMs =
                  Duration.between(failed.at(), a.at()).toMillis()
                      - config.probe().timeout().dividedBy(10).toMillis();
              return a.reply()
                  .value()
                  .flatMap(NodeAgents.Facts::upstream)
                  .filter(u -> u.target().equals(target) && u.probingSince(sinceFailedMs))
                  .isPresent();
            })
        .toList();
  }

  /**
   * The agent's upstream alone, in {@code facts} (its other facts from just before): {@code GET
   * /facts} runs pg_controldata, 50–100 ms on the lab's loaded hosts. An agent that does not answer
   * it (older than {@code /upstream}) is asked for its facts.
   */
  private Future<Answer> askUpstream(String node, Answer facts) {
    return probePool.submit(
        () -> {
          NodeAgents.Reply<NodeAgents.UpstreamView> r = agents.upstream(node);
          if (!r.ok()) {
            return new Answer(agents.facts(node), clock.instant());
          }
          return new Answer(
              NodeAgents.Reply.of(
                  facts
                      .reply()
                      .value()
                      .orElseThrow()
                      .withUpstream(r.value().orElseThrow().upstream())),
              clock.instant());
        });
  }

  /**
   * Waits for the loop's full probe of an answering primary, watching it meanwhile as between loops
   * (every quarter interval, from a quarter interval on, so a healthy node's full probe, done in
   * milliseconds, meets no watch probe). A fault that falls inside the full probe, after its server
   * answered, makes it end {@code slow} (alive) a whole timeout later, and the next probe of the
   * primary began only then: a second late (seen in the cut and freeze drills). A watch probe begun
   * meanwhile meets the silence a quarter interval after it instead.
   *
   * @return the last watch probe, if any ran; they stop at the first that got no answer
   */
  private Optional<WatchProbe> watchWhileProbing(
      NodeConfig primary, Future<NodeObservation> full, long waitMs) {
    long every = config.probe().watchEvery().toNanos();
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMs);
    Optional<WatchProbe> last = Optional.empty();
    while (System.nanoTime() < until) {
      try {
        full.get(every, TimeUnit.NANOSECONDS);
        return last;
      } catch (TimeoutException e) {
        // still probing: watch meanwhile
      } catch (ExecutionException e) {
        return last; // observations() reports it
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return last;
      }
      long began = System.nanoTime();
      Instant at = clock.instant();
      NodeObservation o = nodes.watch(primary);
      log.debug(
          "event=watch_probe node={} answered={} ms={} during=full_probe",
          o.node(),
          o.answered(),
          (System.nanoTime() - began) / 1_000_000);
      countProbe(o);
      last = Optional.of(new WatchProbe(at, began, System.nanoTime(), o));
      if (!o.answered()) {
        return last;
      }
    }
    return last;
  }

  /**
   * An agent's reply and when it came in. Its ages were measured when it answered; a snapshot
   * states them as of the end of observing, which a late answer from another agent can put a second
   * later: reckoned from there unchanged, a reach would seem that much more recent than it was (and
   * veto a failover).
   */
  private record Answer(NodeAgents.Reply<NodeAgents.Facts> reply, Instant at) {
    NodeAgents.Reply<NodeAgents.Facts> asOf(Instant until) {
      long later = Math.max(0, Duration.between(at, until).toMillis());
      return later == 0 || !reply.ok()
          ? reply
          : NodeAgents.Reply.of(reply.value().orElseThrow().olderBy(later));
    }
  }

  private Future<Answer> ask(String node) {
    return probePool.submit(
        () -> {
          NodeAgents.Reply<NodeAgents.Facts> r = agents.facts(node);
          return new Answer(r, clock.instant());
        });
  }

  private void countProbe(NodeObservation o) {
    String name = o.node();
    metrics.count("pgfailover_probes_total", "Probes run, by node.", "node=\"" + name + "\"");
    if (!o.reachable()) {
      metrics.count(
          "pgfailover_probe_failures_total",
          "Failed probes, by node and failure kind.",
          "node=\""
              + name
              + "\",kind=\""
              + o.failure().map(NodeObservation::text).orElse("other")
              + "\"");
    }
  }

  private Map<String, NodeObservation> observations(
      Map<String, Future<NodeObservation>> futures, long waitMs) {
    Map<String, NodeObservation> observed = new LinkedHashMap<>();
    futures.forEach(
        (name, f) -> {
          NodeObservation o;
          try {
            o = f.get(waitMs, TimeUnit.MILLISECONDS);
          } catch (TimeoutException e) {
            f.cancel(true);
            o = NodeObservation.unreachable(name, Reachability.TIMEOUT);
          } catch (ExecutionException e) {
            log.error("event=probe_bug node={} error=\"{}\"", name, e.getCause().toString());
            o = NodeObservation.unreachable(name, Reachability.OTHER);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            o = NodeObservation.unreachable(name, Reachability.OTHER);
          }
          observed.put(name, o);
        });
    return observed;
  }

  /** The agents bound their reads the same way (the probe's deadline); a late one is a failure. */
  private Map<String, Answer> answers(Map<String, Future<Answer>> asked, long waitMs) {
    Map<String, Answer> facts = new LinkedHashMap<>();
    asked.forEach(
        (name, f) -> {
          try {
            facts.put(name, f.get(waitMs, TimeUnit.MILLISECONDS));
          } catch (TimeoutException | ExecutionException e) {
            f.cancel(true);
            facts.put(
                name,
                new Answer(
                    NodeAgents.Reply.failed("no answer within " + waitMs + " ms"),
                    clock.instant()));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            facts.put(name, new Answer(NodeAgents.Reply.failed("interrupted"), clock.instant()));
          }
        });
    return facts;
  }

  /**
   * The replication gauges: how far the standbys' received WAL is behind the primary's (the largest
   * gap), and whether the primary sees a standby streaming. No primary, no gauges to trust: the lag
   * is removed and streaming is 0.
   */
  private void replication(Snapshot snapshot) {
    Optional<NodeObservation> primary =
        snapshot.nodes().values().stream().filter(NodeObservation::isPrimary).findFirst();
    java.util.OptionalLong lag =
        primary.isEmpty()
            ? java.util.OptionalLong.empty()
            : snapshot.nodes().values().stream()
                .filter(NodeObservation::isStandby)
                .map(s -> NodeObservation.lag(primary.get().walPosition(), s.walPosition()))
                .filter(java.util.OptionalLong::isPresent)
                .mapToLong(java.util.OptionalLong::getAsLong)
                .max();
    if (lag.isPresent()) {
      metrics.gauge(
          REPLICATION_LAG,
          "Bytes of WAL the standby has not received yet (the largest gap of all standbys).",
          "",
          lag.getAsLong());
    } else {
      metrics.remove(REPLICATION_LAG, "");
    }
    metrics.gauge(
        "pgfailover_standby_streaming",
        "1 while the primary sees a standby streaming (pg_stat_replication).",
        "",
        primary.filter(p -> p.replicas().stream().anyMatch(r -> r.streaming())).isPresent()
            ? 1
            : 0);
  }

  static final String REPLICATION_LAG = "pgfailover_replication_lag_bytes";

  /** Every loop says one sentence: INFO when it changes, DEBUG while it stays the same. */
  private void say(Decision d, Pending pending) {
    String sentence = d.reason() + ": " + d.message();
    boolean changed = !sentence.equals(lastSentence) || pending != null || d.mutates();
    if (changed) {
      log.info(
          "event=decision reason={} actions={} message={}",
          d.reason(),
          d.actions().stream().map(a -> a.name()).toList(),
          LogText.quoted(d.message()));
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("reason", d.reason().name());
      fields.put("message", d.message());
      fields.put("actions", d.actions().stream().map(a -> a.name()).toList());
      fields.put("highest_timeline", history.highestPrimaryTimeline());
      history.lastPrimary().ifPresent(p -> fields.put("last_primary", p));
      if (pending != null) {
        fields.put("request", pending.request().toString());
      }
      events.append("decision", fields);
    } else {
      log.debug("event=decision reason={} message={}", d.reason(), LogText.quoted(d.message()));
    }
    lastSentence = sentence;
    metrics.gauge(
        "pgfailover_healthy",
        "1 when the last loop found a healthy primary with the routes on it.",
        "",
        d.reason() == Reason.HEALTHY ? 1 : 0);
  }

  /** What the daemon found at start that an operator should know: a log line and an event each. */
  private void reportStart() {
    EventLog.Tail tail = startReport.tail();
    if (tail.skipped() > 0 || tail.budgetSpent()) {
      log.warn(
          "event=event_log_skipped file={} lines={} read_limit_reached={} why=\"lines that are"
              + " torn, not JSON, or longer than {} bytes are left in the file and not read\"",
          events.file(),
          tail.skipped(),
          tail.budgetSpent(),
          EventLog.MAX_LINE_BYTES);
      events.append(
          "event_log_skipped",
          Map.of(
              "file",
              events.file().toString(),
              "lines",
              tail.skipped(),
              "read_limit_reached",
              tail.budgetSpent()));
    }
    startReport
        .stateProblem()
        .ifPresent(
            problem -> {
              log.warn(
                  "event=state_file_unreadable file={} problem={} fallback=event_log"
                      + " fix=\"it is rewritten on the next timeline change; remove it if it"
                      + " belongs to another cluster\"",
                  events.config().stateFile(),
                  LogText.quoted(problem));
              events.append(
                  "state_file_unreadable",
                  Map.of("file", events.config().stateFile().toString(), "problem", problem));
            });
  }

  /**
   * Keeps the newest timeline in the state file whenever it changes: written atomically, so that a
   * restart reads either the old or the new one.
   */
  private void saveState() {
    if (history.highestPrimaryTimeline() == 0 && history.lastPrimary().isEmpty()) {
      return;
    }
    ControllerState now =
        new ControllerState(
            config.cluster(), history.highestPrimaryTimeline(), history.lastPrimary());
    if (savedState.filter(now::equals).isPresent()) {
      return;
    }
    try {
      now.write(events.config().stateFile(), clock.instant());
      savedState = Optional.of(now);
      stateWriteFailing = false;
    } catch (java.io.IOException e) {
      // Retried on the next loop; said once per episode.
      if (!stateWriteFailing) {
        log.error(
            "event=state_file_write_failed file={} highest_timeline={} error={}",
            events.config().stateFile(),
            now.highestTimeline(),
            LogText.quoted(e.toString()));
      }
      stateWriteFailing = true;
    }
  }

  /**
   * After an upgrade (no state file yet) the newest timeline is read back from the event history,
   * so that a restarted controller never routes to a stale primary.
   */
  static History seedFromEvents(List<JsonNode> tail) {
    History h = History.empty();
    for (JsonNode e : tail) {
      if (e.has("highest_timeline")) {
        Optional<String> primary =
            e.hasNonNull("last_primary")
                ? Optional.of(e.get("last_primary").asText())
                : Optional.empty();
        h = h.seedTimeline(e.get("highest_timeline").asLong(), primary);
      }
    }
    return h;
  }

  @Override
  public void close() {
    probePool.shutdownNow();
  }
}
