package io.pgfailover.controller.loop;

import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.Action;
import io.pgfailover.controller.decide.Decision;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.lease.Leadership;
import io.pgfailover.controller.port.Fencer;
import io.pgfailover.controller.port.NatEgress;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.Ports;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.controller.port.VirtualIpRoutes;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out a decision's actions in order. Each action is logged and written to the event history
 * before and after it runs; the first failure stops the plan, and a write stop that no promotion
 * followed is undone, so the next loop finds a state it can see and repair.
 */
final class Actuator {
  private static final Logger log = LoggerFactory.getLogger(Actuator.class);

  /**
   * How long a switchover waits for the standby to replay the last WAL before giving up (writes
   * resume).
   */
  static final Duration CATCH_UP_TIMEOUT = Duration.ofSeconds(30);

  /** How long fencing waits for the instance to reach stopping/stopped. */
  static final Duration FENCE_BOUND = Duration.ofSeconds(30);

  private final ControllerConfig config;
  private final PostgresNodes nodes;
  private final VirtualIpRoutes routes;
  private final Fencer fencer;
  private final EventLog events;
  private final Metrics metrics;
  private final Clock clock;
  private final Leadership leadership;
  private final Optional<NatEgress> nat;
  private final NodeAgents agents;

  /** Set by {@link #promote} when its re-check aborted; execute() runs on the loop's one thread. */
  private NodeObservation primaryBack;

  Actuator(
      ControllerConfig config,
      Ports ports,
      EventLog events,
      Metrics metrics,
      Clock clock,
      Leadership leadership) {
    this.leadership = leadership;
    this.nat = ports.natEgress();
    this.config = config;
    this.nodes = ports.postgres();
    this.routes = ports.routes();
    this.fencer = ports.fencer();
    this.agents = ports.agents();
    this.events = events;
    this.metrics = metrics;
    this.clock = clock;
    // Every kind from 0: an alerting rule on increase() sees the first failover after a start too.
    for (String kind : List.of("failover", "manual_failover", "switchover")) {
      metrics.add(FAILOVERS, FAILOVERS_HELP, "kind=\"" + kind + "\"", 0);
    }
  }

  static final String FAILOVERS = "pgfailover_failovers_total";
  static final String FAILOVERS_HELP =
      "Promotions carried out (failover, manual failover, switchover).";

  /**
   * What running a plan did.
   *
   * @param primaryBack what the re-check before a promotion saw when it aborted because the failed
   *     primary answered as primary again: the loop counts it as that node's latest probe
   */
  record Outcome(
      boolean ok,
      List<Step> steps,
      Optional<FailoverTimeline> timeline,
      Optional<NodeObservation> primaryBack) {
    static Outcome nothing() {
      return new Outcome(true, List.of(), Optional.empty(), Optional.empty());
    }
  }

  /**
   * @param timelineStart when the failure was first seen (failover) or the request arrived
   *     (manual); a timeline is recorded only for plans that promote
   */
  Outcome execute(Decision decision, Instant timelineStart) {
    return execute(decision, timelineStart, false);
  }

  /**
   * @param operatorForce an operator's {@code failover --force}: may act without the lease when the
   *     lease store cannot be reached (see {@link Leadership#beforeMutating})
   */
  Outcome execute(Decision decision, Instant timelineStart, boolean operatorForce) {
    boolean promotes = decision.actions().stream().anyMatch(a -> a instanceof Action.Promote);
    FailoverTimeline.Recorder timeline = null;
    if (promotes) {
      String to =
          decision.actions().stream()
              .filter(a -> a instanceof Action.Promote)
              .map(a -> ((Action.Promote) a).node())
              .findFirst()
              .orElse("");
      String from =
          decision.actions().stream()
              .filter(a -> a instanceof Action.StopWrites || a instanceof Action.Fence)
              .map(this::nodeOf)
              .findFirst()
              .orElse(
                  decision.actions().stream()
                      .filter(a -> a instanceof Action.Promote)
                      .map(a -> ((Action.Promote) a).abortIfPrimary().orElse(""))
                      .findFirst()
                      .orElse(""));
      timeline =
          new FailoverTimeline.Recorder(
              decision.reason().name().toLowerCase(), from, to, timelineStart);
      // An automatic failover counts from the first failed probe; an operator's request from its
      // arrival.
      timeline.mark(
          decision.reason() == io.pgfailover.controller.decide.Reason.FAILOVER
              ? "failure_first_seen"
              : "requested",
          timelineStart);
      timeline.mark("confirmed", clock.instant());
      // The start of the story the timeline ends: written before the first action, so a page
      // about it goes out while the failover runs.
      Map<String, Object> started = new LinkedHashMap<>();
      started.put("kind", decision.reason().name().toLowerCase());
      started.put("from", from);
      started.put("to", to);
      started.put("start", timelineStart.toString());
      started.put("reason", decision.message());
      events.append("failover_started", started);
    }
    primaryBack = null;
    List<Step> steps = new ArrayList<>();
    Optional<String> writesStoppedOn = Optional.empty();
    boolean promoted = false;
    boolean promotionStarted = false;
    boolean ok = true;
    for (Action action : decision.actions()) {
      if (action instanceof Action.Alarm) {
        continue; // raised by the loop's Alarms, once per episode
      }
      // Lock before act: in a controller pair, every mutating action first re-confirms the lease
      // (a conditional renewal in the store) and that its acting window is still open. The
      // scenario it stops:
      //   1. this controller leads, sees the primary die and decides to promote;
      //   2. it freezes (GC pause, a stopped VM) past its lease;
      //   3. the follower sees the lease unrenewed for a full duration, takes it (token + 1) and
      //      fails over;
      //   4. this controller thaws with its old plan: the renewal here fails its condition, so
      //      nothing runs.
      Leadership.Permit permit = leadership.beforeMutating(operatorForce);
      if (!permit.granted()) {
        Map<String, Object> refused = new LinkedHashMap<>(describe(action));
        refused.put("reason", permit.reason());
        events.append("action_refused", refused);
        log.warn("event=action_refused action={} reason=\"{}\"", action.name(), permit.reason());
        steps.add(new Step(action.name(), Step.Status.REFUSED, permit.reason()));
        ok = false;
        break;
      }
      if (action instanceof Action.StopWrites s) {
        writesStoppedOn = Optional.of(s.node()); // a failed stop may have half-happened
      }
      StepResult result = run(action);
      steps.add(step(action.name(), result));
      // A promotion counts as started once it may have taken effect: confirmed, or sent and not
      // confirmed (it may still complete). Only a promotion never sent leaves the standby as it
      // was.
      promotionStarted |= action instanceof Action.Promote && (result.ok() || result.changed());
      if (!result.ok()) {
        ok = false;
        break;
      }
      if (timeline != null) {
        if (action instanceof Action.Fence) {
          timeline.mark("fenced", clock.instant());
        } else if (action instanceof Action.Promote) {
          timeline.mark("promoted", clock.instant());
        } else if (action instanceof Action.PointRoutes p) {
          timeline.mark("routes_switched", clock.instant());
          markVerified(timeline, p);
        }
      }
      promoted |= action instanceof Action.Promote;
    }
    // Never two writable primaries. When a plan that stopped writes on the old primary fails:
    //   1. before any promotion started, the old primary is still the only primary: writes come
    //      back on it, and nothing else changed;
    //   2. once a promotion started (pg_promote sent, confirmed or not: an unconfirmed one may
    //      still complete), the standby is, or may become, a primary on a newer timeline. Giving
    //      writes back to the old primary then makes two writable primaries (seen when re-enabling
    //      writes on the new primary failed for lack of a privilege), so its write stop stays. The
    //      routes follow the newer timeline: this plan's point_routes, or, if it did not get that
    //      far, the next loop's repoint once the new primary answers;
    //   3. and only while the lease is still ours: a new leader may have promoted since, and a
    //      read-only old primary is safe.
    if (!ok
        && writesStoppedOn.isPresent()
        && !promotionStarted
        && leadership.beforeMutating(false).granted()) {
      StepResult undo = run(new Action.AllowWrites(writesStoppedOn.get()));
      steps.add(step("allow_writes", undo));
    }
    boolean didPromote = promoted;
    // Completed means every step held, routes included; a promotion whose route switch failed is
    // left for the next loop to finish (it sees a primary with the routes elsewhere and repoints).
    boolean completed = ok && promoted;
    Optional<FailoverTimeline> done = Optional.ofNullable(timeline).map(t -> t.finish(completed));
    done.ifPresent(
        t -> {
          events.append(
              "failover_timeline",
              Map.of(
                  "kind",
                  t.kind(),
                  "from",
                  t.from(),
                  "to",
                  t.to(),
                  "completed",
                  t.completed(),
                  "start",
                  t.start().toString(),
                  "phases_ms",
                  t.phasesMs()));
          log.info(
              "event=failover_timeline kind={} from={} to={} completed={} {}",
              t.kind(),
              t.from(),
              t.to(),
              t.completed(),
              t.render());
          if (didPromote) {
            metrics.count(FAILOVERS, FAILOVERS_HELP, "kind=\"" + t.kind() + "\"");
            t.phasesMs()
                .forEach(
                    (phase, ms) ->
                        metrics.gauge(
                            "pgfailover_last_failover_phase_ms",
                            "Milliseconds from first failure to each phase of the last failover.",
                            "phase=\"" + phase + "\"",
                            ms));
          }
        });
    return new Outcome(ok, steps, done, Optional.ofNullable(primaryBack));
  }

  /**
   * Moves the peer AZ's default routes, logged and evented like every action. Not lease-gated: see
   * {@link NatWatch}.
   */
  StepResult egress(Action.PointEgressRoutes action) {
    return run(action);
  }

  static final String EC2_CALL_ERRORS = "pgfailover_ec2_call_errors_total";
  static final String EC2_CALL_ERRORS_HELP =
      "EC2 calls that failed for good (after the adapter's retries): route reads and actions.";

  private static boolean callsEc2(Action action) {
    return action instanceof Action.PointRoutes
        || action instanceof Action.Fence
        || action instanceof Action.PointEgressRoutes;
  }

  private static Step step(String action, StepResult result) {
    return new Step(action, result.ok() ? Step.Status.OK : Step.Status.FAILED, result.detail());
  }

  private void markVerified(FailoverTimeline.Recorder timeline, Action.PointRoutes p) {
    // Independent read-back (it also refreshes the loop's route cache): the switch counts once
    // seen.
    boolean allOnTarget =
        routes.read().stream()
            .filter(r -> p.routeTables().contains(r.routeTable()))
            .allMatch(r -> r.pointsAt(p.targetId()));
    if (allOnTarget) {
      timeline.mark("verified", clock.instant());
    }
  }

  private StepResult run(Action action) {
    Map<String, Object> before = new LinkedHashMap<>(describe(action));
    events.append("action_started", before);
    log.info("event=action_started action={} {}", action.name(), kv(before));
    Instant start = clock.instant();
    StepResult result;
    try {
      result = dispatch(action);
    } catch (RuntimeException e) {
      // A port broke its contract: log it as a bug, record the failure, let the next loop retry.
      log.error("event=action_bug action={} error=\"{}\"", action.name(), e.toString(), e);
      result = StepResult.failed("unexpected error: " + e, Map.of());
    }
    long ms = Duration.between(start, clock.instant()).toMillis();
    Map<String, Object> after = new LinkedHashMap<>(describe(action));
    after.put("ok", result.ok());
    after.put("changed", result.changed());
    after.put("detail", result.detail());
    after.put("elapsed_ms", ms);
    after.putAll(result.fields());
    events.append("action_finished", after);
    if (result.ok()) {
      log.info(
          "event=action_finished action={} ok=true changed={} elapsed_ms={} detail=\"{}\"",
          action.name(),
          result.changed(),
          ms,
          result.detail());
    } else {
      log.error(
          "event=action_finished action={} ok=false elapsed_ms={} detail=\"{}\"",
          action.name(),
          ms,
          result.detail());
      metrics.count(
          "pgfailover_action_failures_total",
          "Actions that failed, by action.",
          "action=\"" + action.name() + "\"");
    }
    if (!result.ok() && callsEc2(action)) {
      metrics.count(EC2_CALL_ERRORS, EC2_CALL_ERRORS_HELP, "");
    }
    Object calls = result.fields().get("api_calls");
    if (calls instanceof Number n) {
      metrics.add(
          "pgfailover_ec2_calls_total", "EC2 API calls made by actions.", "", n.longValue());
    }
    return result;
  }

  private StepResult dispatch(Action action) {
    if (action instanceof Action.PointRoutes p) {
      return routes.pointAt(p.targetId(), p.routeTables());
    } else if (action instanceof Action.Promote p) {
      return promote(p);
    } else if (action instanceof Action.Fence f) {
      return fencer.fence(f.instanceId(), FENCE_BOUND);
    } else if (action instanceof Action.StopWrites s) {
      return nodes.stopWrites(node(s.node()));
    } else if (action instanceof Action.AllowWrites a) {
      return nodes.allowWrites(node(a.node()));
    } else if (action instanceof Action.AwaitCatchUp c) {
      return nodes.awaitCatchUp(node(c.standby()), node(c.primary()), CATCH_UP_TIMEOUT);
    } else if (action instanceof Action.SetSynchronousStandbys sync) {
      return nodes.setSynchronousStandbys(node(sync.node()), sync.names());
    } else if (action instanceof Action.Rejoin r) {
      return rejoin(r);
    } else if (action instanceof Action.PointEgressRoutes e && nat.isPresent()) {
      return nat.get().pointEgressAt(e.to());
    }
    throw new IllegalStateException("not an executable action: " + action);
  }

  /**
   * Hands the rejoin to the node's agent, which runs it on its own (later loops follow it in the
   * agent's facts). Accepted or already running is done; an unanswered request may be repeated.
   */
  private StepResult rejoin(Action.Rejoin r) {
    NodeAgents.RejoinReply reply =
        agents.rejoin(
            r.node(),
            new NodeAgents.RejoinRequest(
                r.source(), r.expectTimeline(), Optional.empty(), Optional.empty()));
    Map<String, Object> fields = Map.of("outcome", reply.outcome().name().toLowerCase());
    return switch (reply.outcome()) {
      case STARTED -> StepResult.done(reply.detail(), fields);
      case CONTINUES, NOTHING_TO_DO -> StepResult.alreadyDone(reply.detail(), fields);
      case REFUSED, UNANSWERED -> StepResult.failed(reply.detail(), fields);
    };
  }

  private StepResult promote(Action.Promote p) {
    if (p.abortIfPrimary().isPresent()) {
      // Re-check before the one step that cannot be undone: the failed primary may have come back.
      NodeObservation again = nodes.probe(node(p.abortIfPrimary().get()), p.recheckWithin());
      if (again.isPrimary()) {
        primaryBack = again;
        return StepResult.failed(
            "aborted: " + again.node() + " answers as primary again",
            Map.of("recheck", "primary_back"));
      }
      if (again.answered()) {
        // Its server answered, too slowly to tell its role: alive, and maybe still a primary.
        primaryBack = again;
        return StepResult.failed(
            "aborted: " + again.node() + " answers again (slowly: role unknown)",
            Map.of("recheck", "answered_slowly"));
      }
    }
    return nodes.promote(node(p.node()), config.failover().promoteTimeout());
  }

  private NodeConfig node(String name) {
    return config.node(name).orElseThrow();
  }

  private String nodeOf(Action a) {
    return a instanceof Action.StopWrites s
        ? s.node()
        : a instanceof Action.Fence f ? f.node() : "";
  }

  private static Map<String, Object> describe(Action action) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("action", action.name());
    if (action instanceof Action.PointRoutes p) {
      m.put("node", p.node());
      m.put("target", p.targetId());
    } else if (action instanceof Action.Promote p) {
      m.put("node", p.node());
    } else if (action instanceof Action.Fence f) {
      m.put("node", f.node());
      m.put("instance", f.instanceId());
    } else if (action instanceof Action.StopWrites s) {
      m.put("node", s.node());
    } else if (action instanceof Action.AllowWrites a) {
      m.put("node", a.node());
    } else if (action instanceof Action.AwaitCatchUp c) {
      m.put("node", c.standby());
      m.put("primary", c.primary());
    } else if (action instanceof Action.SetSynchronousStandbys sync) {
      m.put("node", sync.node());
      m.put("names", sync.names());
    } else if (action instanceof Action.Rejoin r) {
      m.put("node", r.node());
      m.put("source", r.source());
      m.put("timeline", r.expectTimeline());
    } else if (action instanceof Action.PointEgressRoutes e) {
      m.put("to", e.to().name().toLowerCase());
      m.put("instance", e.instanceId());
      m.put("why", e.why());
    }
    return m;
  }

  private static String kv(Map<String, Object> m) {
    StringBuilder sb = new StringBuilder();
    m.forEach(
        (k, v) -> {
          if (!k.equals("action")) {
            sb.append(sb.length() == 0 ? "" : " ").append(k).append('=').append(v);
          }
        });
    return sb.toString();
  }
}
