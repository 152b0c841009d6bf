package io.pgfailover.controller.port;

import io.pgfailover.probe.Role;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * {@link NodeAgents} in memory, for unit tests of the controller: each node's facts are set by the
 * test, a rejoin moves through {@link RejoinPhase}'s table as the test advances it, and the agent's
 * answers follow the port's contract (one rejoin at a time, the same request continues, start and
 * stop idempotent and refused while a rejoin runs). What the real agent would refuse is the test's
 * to script with {@link #refuseNext}. Every call is recorded.
 */
public final class MemoryNodeAgents implements NodeAgents {

  /** One host as the fake agent reports it; the test changes it freely. */
  public static final class Host {
    public boolean reachable = true;
    public String unreachableWhy = "connection refused";
    public boolean running = true;
    public Role role = Role.STANDBY;
    public long timeline = 1;
    public boolean standbySignal;
    public Optional<String> primaryConninfo = Optional.empty();
    public Optional<String> failNextService = Optional.empty();

    /** What this host's agent reports of its upstream (the active witness); none by default. */
    public volatile Optional<Upstream> upstream = Optional.empty();

    private Rejoin rejoin = Rejoin.idle();
    private Optional<String> refuseNext = Optional.empty();
    private final List<RejoinRequest> requests = new ArrayList<>();

    public Rejoin rejoin() {
      return rejoin;
    }

    public List<RejoinRequest> requests() {
      return List.copyOf(requests);
    }
  }

  private final Map<String, Host> hosts = new LinkedHashMap<>();
  private final List<String> calls = new ArrayList<>();

  /** Adds a node with an agent (a running standby on timeline 1) and returns it to adjust. */
  public synchronized Host add(String node) {
    return hosts.computeIfAbsent(node, n -> new Host());
  }

  public synchronized Host host(String node) {
    return hosts.get(node);
  }

  /** Every call, as "facts pg-a", "rejoin pg-a 10.0.2.10:5432 2", "stop pg-b". */
  public synchronized List<String> calls() {
    return List.copyOf(calls);
  }

  /**
   * The next rejoin request for {@code node} is refused with {@code reason}, as the agent's checks
   * would.
   */
  public synchronized void refuseNext(String node, String reason) {
    hosts.get(node).refuseNext = Optional.of(reason);
  }

  /**
   * Moves {@code node}'s rejoin through {@code phases} in order, each step checked by the
   * transition table (an illegal one throws, as it would on the agent). DONE leaves the node a
   * running standby on the rejoin's timeline; FAILED leaves it stopped.
   */
  public synchronized void advance(String node, RejoinPhase... phases) {
    Host h = hosts.get(node);
    for (RejoinPhase p : phases) {
      Rejoin r = h.rejoin;
      RejoinPhase next = r.state().to(p);
      boolean ends = next == RejoinPhase.DONE || next == RejoinPhase.FAILED;
      List<Step> steps = new ArrayList<>(r.steps());
      steps.add(new Step(r.state(), 1, "fake"));
      h.rejoin =
          new Rejoin(
              next,
              r.source(),
              r.expectTimeline(),
              r.slot(),
              r.startedAt(),
              ends ? Optional.of(Instant.EPOCH) : Optional.empty(),
              next == RejoinPhase.RECLONING ? Method.RECLONE : r.method(),
              steps,
              next == RejoinPhase.FAILED
                  ? Optional.of("failed in " + r.state())
                  : Optional.empty());
      if (next == RejoinPhase.DONE) {
        h.running = true;
        h.role = Role.STANDBY;
        h.standbySignal = true;
        h.timeline = r.expectTimeline().orElse(h.timeline);
      } else if (next == RejoinPhase.FAILED) {
        h.running = false;
      }
    }
  }

  /** Runs {@code node}'s rejoin from where it is to DONE by rewinding. */
  public synchronized void finish(String node) {
    List<RejoinPhase> path =
        List.of(
            RejoinPhase.STOPPING,
            RejoinPhase.REWINDING,
            RejoinPhase.CONFIGURING,
            RejoinPhase.STARTING,
            RejoinPhase.AWAITING_STREAM,
            RejoinPhase.DONE);
    RejoinPhase at = hosts.get(node).rejoin.state();
    for (RejoinPhase p :
        path.subList(at == RejoinPhase.CHECKING ? 0 : path.indexOf(at) + 1, path.size())) {
      advance(node, p);
    }
  }

  @Override
  public synchronized boolean has(String node) {
    return hosts.containsKey(node);
  }

  @Override
  public synchronized Reply<Facts> facts(String node) {
    calls.add("facts " + node);
    Optional<String> down = unavailable(node);
    if (down.isPresent()) {
      return Reply.failed(down.get());
    }
    Host h = hosts.get(node);
    return Reply.of(
        new Facts(
            node,
            h.running,
            h.running ? OptionalLong.of(1000) : OptionalLong.empty(),
            "15.13",
            "/var/lib/pgsql/data",
            1L << 30,
            10L << 30,
            h.standbySignal,
            h.primaryConninfo,
            Optional.empty(),
            h.role,
            OptionalLong.of(h.timeline),
            List.of(),
            h.rejoin,
            h.upstream));
  }

  /** When (System.nanoTime) {@link #upstream} was last asked, or 0. */
  public volatile long lastUpstreamNanos;

  @Override
  public synchronized Reply<UpstreamView> upstream(String node) {
    calls.add("upstream " + node);
    lastUpstreamNanos = System.nanoTime();
    Optional<String> down = unavailable(node);
    return down.isPresent()
        ? Reply.failed(down.get())
        : Reply.of(new UpstreamView(hosts.get(node).upstream));
  }

  @Override
  public synchronized Reply<Rejoin> rejoinState(String node) {
    calls.add("rejoinState " + node);
    Optional<String> down = unavailable(node);
    return down.isPresent() ? Reply.failed(down.get()) : Reply.of(hosts.get(node).rejoin);
  }

  @Override
  public synchronized RejoinReply rejoin(String node, RejoinRequest request) {
    calls.add("rejoin " + node + " " + request.source() + " " + request.expectTimeline());
    Optional<String> down = unavailable(node);
    if (down.isPresent()) {
      return new RejoinReply(RejoinOutcome.UNANSWERED, down.get(), Optional.empty());
    }
    Host h = hosts.get(node);
    h.requests.add(request);
    Rejoin r = h.rejoin;
    if (r.state().running()) {
      boolean same =
          r.source().equals(Optional.of(request.source()))
              && r.expectTimeline().equals(OptionalLong.of(request.expectTimeline()));
      return same
          ? new RejoinReply(RejoinOutcome.CONTINUES, "the same rejoin runs", Optional.of(r))
          : new RejoinReply(RejoinOutcome.REFUSED, "another rejoin runs", Optional.of(r));
    }
    if (h.refuseNext.isPresent()) {
      String why = h.refuseNext.get();
      h.refuseNext = Optional.empty();
      return new RejoinReply(RejoinOutcome.REFUSED, why, Optional.of(r));
    }
    h.rejoin =
        new Rejoin(
            r.state().to(RejoinPhase.CHECKING),
            Optional.of(request.source()),
            OptionalLong.of(request.expectTimeline()),
            Optional.of(request.slot().orElse("pgfailover_" + node.replace('-', '_'))),
            Optional.of(Instant.EPOCH),
            Optional.empty(),
            Method.NONE,
            List.of(),
            Optional.empty());
    return new RejoinReply(RejoinOutcome.STARTED, "accepted", Optional.of(h.rejoin));
  }

  @Override
  public synchronized StepResult start(String node) {
    return service(node, true);
  }

  @Override
  public synchronized StepResult stop(String node) {
    return service(node, false);
  }

  private StepResult service(String node, boolean start) {
    calls.add((start ? "start " : "stop ") + node);
    Optional<String> down = unavailable(node);
    if (down.isPresent()) {
      return StepResult.failed(down.get(), Map.of());
    }
    Host h = hosts.get(node);
    if (h.rejoin.state().running()) {
      return StepResult.failed("a rejoin runs (" + h.rejoin.state() + ")", Map.of());
    }
    if (h.failNextService.isPresent()) {
      String why = h.failNextService.get();
      h.failNextService = Optional.empty();
      return StepResult.failed(why, Map.of());
    }
    if (h.running == start) {
      return StepResult.alreadyDone(start ? "already runs" : "not running", Map.of());
    }
    h.running = start;
    return StepResult.done(start ? "started" : "stopped", Map.of());
  }

  private Optional<String> unavailable(String node) {
    Host h = hosts.get(node);
    if (h == null) {
      return Optional.of("node " + node + " has no agent configured");
    }
    return h.reachable
        ? Optional.empty()
        : Optional.of("the agent of " + node + ": " + h.unreachableWhy);
  }
}
