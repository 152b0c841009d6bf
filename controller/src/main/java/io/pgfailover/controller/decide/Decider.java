package io.pgfailover.controller.decide;

import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.FailoverPolicy;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.Action.Alarm;
import io.pgfailover.controller.decide.Action.AlarmKind;
import io.pgfailover.probe.Reachability;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The controller's decisions: a pure function from a snapshot, the history and the configuration
 * (plus an optional operator request) to a {@link Decision}. No I/O, no clock: table-driven tests
 * cover it.
 *
 * <p>Never two primaries behind the virtual IP. The guards, in the order they apply:
 *
 * <ol>
 *   <li>A node is promoted only when no reachable node reports itself primary (or an operator
 *       forces it, and then the old primary's writes are stopped first).
 *   <li>Before promoting, a standby that still hears from the primary (its WAL receiver streams and
 *       got a message within the witness window) proves the primary alive: only the controller's
 *       path to it broke, so nothing is promoted.
 *   <li>The candidate must not be behind on timeline: a standby whose timeline is older than the
 *       newest primary ever seen would fork history.
 *   <li>When two nodes report themselves primary (an old primary came back), the route goes to, or
 *       stays with, the newest timeline; the other is fenced (if configured) or alarmed, never
 *       promoted or routed.
 *   <li>A primary whose timeline is older than the newest seen is stale even when it is the only
 *       one reachable: it is never routed to.
 * </ol>
 */
public final class Decider {
  private final ControllerConfig config;
  private final RejoinRules rejoins;
  private final SyncRules sync;

  public Decider(ControllerConfig config) {
    this.config = config;
    this.rejoins = new RejoinRules(config);
    this.sync = new SyncRules(config);
  }

  /** The automatic loop's decision. {@code history} must already include {@code snapshot}. */
  public Decision decide(Snapshot snapshot, History history) {
    return withRouteTableAlarms(automatic(snapshot, history), snapshot, history);
  }

  /** An operator's request, checked against the same snapshot and guards. */
  public Decision decide(Snapshot snapshot, History history, Request request) {
    Decision d;
    if (request instanceof Request.Failover f) {
      d = manualFailover(snapshot, history, f);
    } else if (request instanceof Request.Switchover sw) {
      d = switchover(snapshot, history, sw);
    } else {
      d = rejoin(snapshot, history, (Request.Rejoin) request);
    }
    return withRouteTableAlarms(d, snapshot, history);
  }

  private Decision automatic(Snapshot snapshot, History history) {
    List<NodeObservation> primaries = primaries(snapshot);
    if (!primaries.isEmpty()) {
      return withPrimary(snapshot, history, primaries);
    }
    Optional<String> failed = failedPrimary(snapshot, history);
    if (failed.isEmpty()) {
      return alarmOnly(
          Reason.NO_PRIMARY,
          AlarmKind.NO_PRIMARY,
          "no node reports itself primary and none is known to have been: nothing to fail over"
              + " from; check the nodes");
    }
    if (snapshot
        .node(failed.get())
        .flatMap(NodeObservation::failure)
        .filter(Reachability.SLOW::equals)
        .isPresent()) {
      return Decision.nothing(
          Reason.PRIMARY_SUSPECT,
          "waiting: primary "
              + failed.get()
              + " is slow: its server answered but the probe could not finish in time; alive, so"
              + " not a failed probe");
    }
    int failures = history.failures(failed.get());
    ActiveWitness seen = activeWitness(snapshot, history, failed.get());
    // A standby's host that cannot reach the primary either is one more failed probe, from
    // another place (ActiveWitness, rule 2). Not more: on a link that loses a third of the
    // primary's packets both views, and the WAL receiver's, go silent together for a second now
    // and then (the flapping-link test saw it), so a probe timeout's worth of joint silence would
    // fail over a live primary.
    int threshold =
        seen.verdict() == ActiveWitness.Verdict.UNREACHABLE
            ? Math.max(1, config.probe().failureThreshold() - 1)
            : config.probe().failureThreshold();
    if (failures < threshold) {
      return Decision.nothing(
          Reason.PRIMARY_SUSPECT,
          String.format(
              Locale.ROOT,
              "waiting: primary %s failed %d/%d probes (%s)",
              failed.get(),
              failures,
              threshold,
              failureOf(snapshot, failed.get())));
    }
    return failover(snapshot, history, failed.get(), Optional.empty(), false, false, seen);
  }

  private Decision withPrimary(Snapshot s, History h, List<NodeObservation> primaries) {
    NodeObservation newest = primaries.get(0);
    long newestTimeline = newest.timeline().orElse(0);
    List<Action> actions = new ArrayList<>();
    List<String> notes = new ArrayList<>();

    if (primaries.size() > 1 && primaries.get(1).timeline().orElse(0) == newestTimeline) {
      return alarmOnly(
          Reason.TWO_PRIMARIES,
          AlarmKind.TWO_PRIMARIES,
          "two primaries on the same timeline "
              + newestTimeline
              + " ("
              + names(primaries)
              + "): cannot tell which is newer, routes left as they are; stop one by hand");
    }
    if (newestTimeline < h.highestPrimaryTimeline()) {
      // Guard 5: the newest primary is down and an older one came back.
      List<Action> fence = fenceIfWritable(newest);
      List<Action> all = new ArrayList<>(fence);
      all.add(
          new Alarm(
              AlarmKind.STALE_PRIMARY,
              "primary "
                  + newest.node()
                  + " is on timeline "
                  + newestTimeline
                  + " but timeline "
                  + h.highestPrimaryTimeline()
                  + " was seen: never routing to it"));
      return new Decision(
          Reason.STALE_PRIMARY,
          "stale primary "
              + newest.node()
              + " (timeline "
              + newestTimeline
              + " < "
              + h.highestPrimaryTimeline()
              + ") is not routed to"
              + (fence.isEmpty() ? "" : "; fencing it"),
          all);
    }
    String eni = nodeConfig(newest.node()).eniId();
    // A table that cannot be pointed is alarmed (withRouteTableAlarms), not retried every loop: the
    // write would fail the same way until an operator fixes the table or the config.
    List<VirtualIpRoute> unpointable = s.routes().stream().filter(this::unpointable).toList();
    List<VirtualIpRoute> wrong =
        s.routes().stream().filter(r -> !r.pointsAt(eni) && !unpointable(r)).toList();
    boolean allUnknown =
        !s.routes().isEmpty()
            && s.routes().stream().allMatch(r -> r.status() == VirtualIpRoute.Status.UNKNOWN);
    boolean repoint = !allUnknown && !wrong.isEmpty();
    // The cluster back to two nodes streaming, and synchronous replication as configured: only
    // once the routes are settled on the newest primary (RejoinRules' rule 1).
    boolean settled = !allUnknown && wrong.isEmpty();
    RejoinRules.Plan rejoinPlan =
        settled ? rejoins.plan(s, h, newest) : new RejoinRules.Plan(List.of(), List.of());
    List<String> rejoining =
        rejoinPlan.actions().stream()
            .filter(a -> a instanceof Action.Rejoin)
            .map(a -> ((Action.Rejoin) a).node())
            .toList();
    for (NodeObservation stale : primaries.subList(1, primaries.size())) {
      // Guard 4: an old primary came back next to the newer one.
      // A node being rejoined is stopped by its agent first: fencing its instance would take the
      // agent away with it.
      if (!rejoining.contains(stale.node())) {
        actions.addAll(fenceIfWritable(stale));
      }
      actions.add(
          new Alarm(
              AlarmKind.TWO_PRIMARIES,
              "old primary "
                  + stale.node()
                  + " is up on timeline "
                  + stale.timeline().orElse(0)
                  + " beside "
                  + newest.node()
                  + " on "
                  + newestTimeline
                  + (stale.writable().orElse(true) ? "" : " (read-only)")
                  + ": it needs re-joining as a standby"));
      notes.add(
          "old primary "
              + stale.node()
              + " is up on older timeline "
              + stale.timeline().orElse(0)
              + (stale.writable().orElse(true) ? "" : " (read-only)"));
    }

    if (allUnknown) {
      notes.add("route tables could not be read");
    } else if (!wrong.isEmpty()) {
      actions.add(new Action.PointRoutes(newest.node(), eni, pointable(s)));
      notes.add(
          "repointing "
              + wrong.size()
              + " route table(s) ("
              + wrong.stream().map(this::describe).collect(Collectors.joining(", "))
              + ") to "
              + newest.node());
    }

    unpointable.forEach(
        r ->
            notes.add(
                "route table "
                    + r.routeTable()
                    + (r.status() == VirtualIpRoute.Status.TABLE_MISSING
                        ? " does not exist"
                        : " has no route for the virtual IP and may not get one")
                    + ": alarmed, not written"));
    if (newest.writable().filter(w -> !w).isPresent()) {
      actions.add(
          new Alarm(
              AlarmKind.PRIMARY_NOT_WRITABLE,
              newest.writesStopped()
                  ? "primary "
                      + newest.node()
                      + " carries a write stop (default_transaction_read_only = on in"
                      + " postgresql.auto.conf: a switchover's, or one whose removal failed, see"
                      + " allow_writes in the event history). Fix, once no other node is or may"
                      + " become primary: ALTER SYSTEM RESET default_transaction_read_only; SELECT"
                      + " pg_reload_conf(); on "
                      + newest.node()
                  : "primary "
                      + newest.node()
                      + " accepts connections but its write check failed (disk full, a"
                      + " synchronous standby missing, or a lock?): see the probe's error in the"
                      + " log"));
      notes.add("primary " + newest.node() + " cannot write");
    }
    for (NodeConfig n : config.nodes()) {
      NodeObservation o = s.nodes().get(n.name());
      if (o != null
          && !o.reachable()
          && h.failures(n.name()) >= config.probe().failureThreshold()) {
        actions.add(
            new Alarm(
                AlarmKind.STANDBY_DOWN,
                "standby "
                    + n.name()
                    + " is down ("
                    + o.failure().map(NodeObservation::text).orElse("unreachable")
                    + "): no failover target until it is back"));
        notes.add("standby " + n.name() + " down");
      }
    }
    boolean syncChange = false;
    if (settled && sync.on()) {
      String wanted = sync.wanted(newest);
      if (!wanted.equals(newest.synchronousStandbyNames())) {
        actions.add(new Action.SetSynchronousStandbys(newest.node(), wanted));
        syncChange = true;
        notes.add(
            wanted.isEmpty()
                ? "no standby streams and has caught up: writes no longer wait for one"
                : "synchronous standby " + wanted);
      }
    }
    actions.addAll(rejoinPlan.actions());
    notes.addAll(rejoinPlan.notes());
    Reason reason =
        primaries.size() > 1
            ? Reason.TWO_PRIMARIES
            : repoint
                ? Reason.REPOINT_ROUTES
                : !rejoining.isEmpty()
                    ? Reason.REJOIN
                    : syncChange
                        ? Reason.SYNCHRONOUS_STANDBYS
                        : !unpointable.isEmpty()
                            ? Reason.ROUTE_TABLE_PROBLEM
                            : allUnknown ? Reason.ROUTES_UNKNOWN : Reason.HEALTHY;
    String head =
        reason == Reason.HEALTHY
            ? "no action: route on " + newest.node() + ", primary healthy"
            : "primary " + newest.node() + " (timeline " + newestTimeline + ")";
    String message = notes.isEmpty() ? head : head + "; " + String.join("; ", notes);
    return new Decision(reason, message, actions);
  }

  private Decision manualFailover(Snapshot s, History h, Request.Failover request) {
    if (request.to().isPresent() && config.node(request.to().get()).isEmpty()) {
      return refused(
          "no node named "
              + request.to().get()
              + "; known nodes: "
              + config.nodes().stream().map(NodeConfig::name).collect(Collectors.joining(", ")));
    }
    List<NodeObservation> primaries = primaries(s);
    if (!primaries.isEmpty()) {
      NodeObservation live = primaries.get(0);
      if (request.to().filter(live.node()::equals).isPresent()) {
        return refused(live.node() + " is already the primary");
      }
      if (!request.force()) {
        return refused(
            "primary "
                + live.node()
                + " is healthy: use switchover to move it without losing writes, or failover"
                + " --force");
      }
      return failover(s, h, live.node(), request.to(), true, true, ActiveWitness.NONE);
    }
    Optional<String> failed = failedPrimary(s, h);
    if (failed.isEmpty()) {
      return refused("no node is or was primary: nothing to fail over from");
    }
    return failover(
        s, h, failed.get(), request.to(), request.force(), true, activeWitness(s, h, failed.get()));
  }

  private Decision switchover(Snapshot s, History h, Request.Switchover request) {
    if (config.node(request.to()).isEmpty()) {
      return refused("no node named " + request.to());
    }
    List<NodeObservation> primaries = primaries(s);
    if (primaries.size() != 1) {
      return refused(
          primaries.isEmpty()
              ? "no reachable primary: a switchover needs a healthy one; use failover"
              : "more than one primary (" + names(primaries) + "): resolve that first");
    }
    NodeObservation primary = primaries.get(0);
    if (primary.node().equals(request.to())) {
      return refused(request.to() + " is already the primary");
    }
    NodeObservation target = s.nodes().get(request.to());
    if (target == null || !target.isStandby()) {
      return refused(request.to() + " is not a reachable standby");
    }
    OptionalLong lag = NodeObservation.lag(primary.walPosition(), target.walPosition());
    if (lag.isPresent() && lag.getAsLong() > config.failover().maxLagBytes()) {
      return refused(
          request.to()
              + " is "
              + lag.getAsLong()
              + " bytes behind (limit "
              + config.failover().maxLagBytes()
              + "): writes would stop until it catches up; wait and retry");
    }
    List<Action> actions =
        new ArrayList<>(
            List.of(
                new Action.StopWrites(primary.node()),
                new Action.AwaitCatchUp(request.to(), primary.node()),
                new Action.Promote(request.to(), Optional.empty(), Duration.ZERO)));
    actions.addAll(synchronousAfterPromotion(target));
    actions.add(
        new Action.PointRoutes(request.to(), nodeConfig(request.to()).eniId(), pointable(s)));
    actions.addAll(allowWritesAfterPromotion(target));
    return new Decision(
        Reason.SWITCHOVER,
        "switchover "
            + primary.node()
            + " -> "
            + request.to()
            + ": stop writes, catch up, promote, repoint",
        actions);
  }

  /**
   * The failover plan once the primary is considered failed (or an operator asked).
   *
   * @param manual an operator asked: the automatic-off switch does not apply
   */
  private Decision failover(
      Snapshot s,
      History h,
      String failed,
      Optional<String> to,
      boolean force,
      boolean manual,
      ActiveWitness seen) {
    FailoverPolicy policy = config.failover();
    NodeConfig failedNode = nodeConfig(failed);
    if (!force && seen.verdict() == ActiveWitness.Verdict.REACHED) {
      String msg =
          "no failover: primary "
              + failed
              + " unreachable from the controller ("
              + failureOf(s, failed)
              + ") but "
              + seen.detail()
              + ": the controller's path is broken";
      return new Decision(
          Reason.PRIMARY_ALIVE_PER_WITNESS,
          msg,
          List.of(new Alarm(AlarmKind.CONTROLLER_PATH_BROKEN, msg)));
    }
    // The passive witness (what a WAL receiver last heard) holds a failover back only while no
    // standby's host has seen the primary fail too (ActiveWitness, rules 2 and 3).
    if (!force && seen.verdict() == ActiveWitness.Verdict.NONE) {
      // Guard 2: a standby that still hears from the primary proves it alive.
      Optional<NodeObservation> witness =
          s.nodes().values().stream()
              .filter(NodeObservation::isStandby)
              .filter(
                  o ->
                      o.witness()
                          .filter(
                              w ->
                                  w.streaming()
                                      && w.sinceLastMessage().compareTo(policy.witnessWindow()) < 0
                                      && streamsFrom(w, failedNode))
                          .isPresent())
              .findFirst();
      if (witness.isPresent()) {
        Witness w = witness.get().witness().get();
        String msg =
            String.format(
                Locale.ROOT,
                "no failover: primary %s unreachable from the controller (%s) but standby %s heard"
                    + " from it %.1f s ago: the controller's path is broken",
                failed,
                failureOf(s, failed),
                witness.get().node(),
                w.sinceLastMessage().toMillis() / 1000.0);
        return new Decision(
            Reason.PRIMARY_ALIVE_PER_WITNESS,
            msg,
            List.of(new Alarm(AlarmKind.CONTROLLER_PATH_BROKEN, msg)));
      }
      // Guard 2b: a timeout says nothing about the primary itself (loss, a partition of our path, a
      // pause), and
      // a standby whose replication connection just dropped under the same loss shows no WAL
      // receiver while it
      // reconnects. So what it heard recently still counts, for the witness window. A refused
      // connection is
      // the primary's host answering that nothing listens: that case needs no such wait.
      if (s.node(failed)
          .flatMap(NodeObservation::failure)
          .filter(Reachability.TIMEOUT::equals)
          .isPresent()) {
        Optional<Map.Entry<String, History.Heard>> recent =
            h.lastHeard().entrySet().stream()
                .filter(e -> !e.getKey().equals(failed))
                .filter(
                    e ->
                        Duration.between(e.getValue().at(), s.at())
                                .compareTo(policy.witnessWindow())
                            < 0)
                .filter(
                    e ->
                        streamsFrom(
                            new Witness(
                                true,
                                e.getValue().senderHost(),
                                e.getValue().senderPort(),
                                Duration.ZERO),
                            failedNode))
                .findFirst();
        if (recent.isPresent()) {
          String msg =
              String.format(
                  Locale.ROOT,
                  "no failover yet: primary %s times out from the controller but standby %s heard"
                      + " from it %.1f s ago (its WAL receiver is not streaming now): waiting out"
                      + " the %d s witness window",
                  failed,
                  recent.get().getKey(),
                  Duration.between(recent.get().getValue().at(), s.at()).toMillis() / 1000.0,
                  policy.witnessWindow().toSeconds());
          return new Decision(
              Reason.PRIMARY_ALIVE_PER_WITNESS,
              msg,
              List.of(new Alarm(AlarmKind.CONTROLLER_PATH_BROKEN, msg)));
        }
      }
    }
    List<NodeObservation> candidates =
        s.nodes().values().stream()
            .filter(NodeObservation::isStandby)
            .filter(o -> !o.node().equals(failed))
            .filter(o -> to.isEmpty() || to.get().equals(o.node()))
            .sorted(
                Comparator.comparingLong((NodeObservation o) -> o.timeline().orElse(0))
                    .thenComparingLong(o -> o.walPosition().orElse(0))
                    .reversed())
            .toList();
    if (candidates.isEmpty()) {
      String which =
          to.map(t -> "standby " + t + " is not reachable as a standby")
              .orElse("no standby is reachable");
      return alarmOnly(
          Reason.NO_CANDIDATE,
          AlarmKind.NO_FAILOVER_CANDIDATE,
          "primary "
              + failed
              + " failed ("
              + failureOf(s, failed)
              + ") but "
              + which
              + ": no promotion");
    }
    // With synchronous replication, the standby the failed primary last reported synchronous holds
    // every write it acknowledged (SyncRules, rule 3): it goes first, and only it without --force.
    NodeObservation candidate =
        candidates.stream()
            .filter(c -> sync.on() && sync.wasSynchronous(h, failed, c.node()))
            .findFirst()
            .orElse(candidates.get(0));
    if (sync.on() && !force && !sync.wasSynchronous(h, failed, candidate.node())) {
      Set<String> synchronous = sync.synchronousOf(h, failed);
      return alarmOnly(
          Reason.NO_SYNCHRONOUS_CANDIDATE,
          AlarmKind.NO_SYNCHRONOUS_CANDIDATE,
          "primary "
              + failed
              + " failed but standby "
              + candidate.node()
              + " was not synchronous when it was last seen healthy ("
              + (synchronous.isEmpty() ? "no standby was" : "synchronous: " + synchronous)
              + "): promoting it could lose acknowledged writes; not promoting automatically; an"
              + " operator may run failover --force");
    }
    long candidateTimeline = candidate.timeline().orElse(0);
    if (!force && candidateTimeline < h.highestPrimaryTimeline()) {
      // Guard 3: promoting a standby behind on timeline would fork history.
      return alarmOnly(
          Reason.NO_CANDIDATE,
          AlarmKind.NO_FAILOVER_CANDIDATE,
          "standby "
              + candidate.node()
              + " is on timeline "
              + candidateTimeline
              + ", older than timeline "
              + h.highestPrimaryTimeline()
              + " already seen: not promoting it");
    }
    OptionalLong lag = NodeObservation.lag(h.lastWalPosition(failed), candidate.walPosition());
    if (!force && lag.isPresent() && lag.getAsLong() > policy.maxLagBytes()) {
      return alarmOnly(
          Reason.LAG_TOO_HIGH,
          AlarmKind.STANDBY_LAG_TOO_HIGH,
          "primary "
              + failed
              + " failed but standby "
              + candidate.node()
              + " is "
              + lag.getAsLong()
              + " bytes behind its last known position (limit "
              + policy.maxLagBytes()
              + "): not promoting automatically; an operator may run failover --force");
    }
    if (!manual && !policy.automatic()) {
      return alarmOnly(
          Reason.AUTOMATIC_FAILOVER_OFF,
          AlarmKind.AUTOMATIC_FAILOVER_OFF,
          "primary "
              + failed
              + " failed ("
              + failureOf(s, failed)
              + "); automatic failover is off: run failoverctl failover to promote "
              + candidate.node());
    }
    List<Action> actions = new ArrayList<>();
    boolean oldStillUp = s.node(failed).filter(NodeObservation::isPrimary).isPresent();
    if (oldStillUp) {
      actions.add(new Action.StopWrites(failed));
    }
    if (policy.fencing() == FailoverPolicy.Fencing.STOP_INSTANCE) {
      actions.add(new Action.Fence(failed, failedNode.instanceId()));
    }
    // The re-check before promoting asks whether the failed primary answers again now. When a
    // standby's host has seen it fail too, a live primary would answer within milliseconds (a
    // probe takes 5 to 30 ms): a tenth of the probe timeout is enough, and the failover does not
    // wait out a full one.
    Duration recheck =
        seen.verdict() == ActiveWitness.Verdict.UNREACHABLE
            ? config.probe().timeout().dividedBy(10)
            : config.probe().timeout();
    actions.add(
        new Action.Promote(
            candidate.node(), oldStillUp ? Optional.empty() : Optional.of(failed), recheck));
    actions.addAll(synchronousAfterPromotion(candidate));
    actions.add(
        new Action.PointRoutes(
            candidate.node(), nodeConfig(candidate.node()).eniId(), pointable(s)));
    actions.addAll(allowWritesAfterPromotion(candidate));
    String state =
        oldStillUp
            ? failed + " is up, its writes are stopped first"
            : String.format(
                Locale.ROOT,
                "%s failed %d %s (%s)",
                failed,
                h.failures(failed),
                h.failures(failed) == 1 ? "probe" : "probes",
                failureOf(s, failed));
    String why =
        String.format(
            Locale.ROOT,
            "%s %s%s, lag %s",
            manual ? "operator failover:" : "primary",
            state,
            seen.verdict() == ActiveWitness.Verdict.UNREACHABLE
                ? ", " + seen.detail()
                : witnessNote(s, failed),
            lag.isPresent() ? lag.getAsLong() + " bytes" : "unknown");
    return new Decision(
        manual ? Reason.MANUAL_FAILOVER : Reason.FAILOVER,
        "promoting " + candidate.node() + ": " + why,
        actions);
  }

  /**
   * A table the controller cannot point: it does not exist, or it lacks the virtual-IP route and
   * creating it is off. Writing to it fails until an operator acts, so it is alarmed instead.
   */
  /** The configured tables a route switch writes: all but those {@link #unpointable}. */
  private List<String> pointable(Snapshot s) {
    List<String> skip =
        s.routes().stream().filter(this::unpointable).map(VirtualIpRoute::routeTable).toList();
    return config.routeTables().stream().filter(t -> !skip.contains(t)).toList();
  }

  private boolean unpointable(VirtualIpRoute r) {
    return r.status() == VirtualIpRoute.Status.TABLE_MISSING
        || (r.status() == VirtualIpRoute.Status.ABSENT && !config.createRouteIfMissing());
  }

  /**
   * Every decision carries the alarm for the tables that cannot be pointed, so the alarm lasts one
   * episode (raised once, cleared when fixed) whatever else the loop decides meanwhile. A plan that
   * points the routes still points the other tables.
   */
  private Decision withRouteTableAlarms(Decision d, Snapshot s, History h) {
    List<VirtualIpRoute> unpointable = s.routes().stream().filter(this::unpointable).toList();
    if (unpointable.isEmpty()) {
      return d;
    }
    // The ENI to name in the fix: where this plan points the routes, else the primary's.
    Optional<String> eni =
        d.actions().stream()
            .filter(a -> a instanceof Action.PointRoutes)
            .map(a -> ((Action.PointRoutes) a).targetId())
            .findFirst()
            .or(
                () ->
                    primaries(s).stream()
                        .findFirst()
                        .map(NodeObservation::node)
                        .or(() -> failedPrimary(s, h))
                        .map(n -> nodeConfig(n).eniId()));
    List<Action> actions = new ArrayList<>(d.actions());
    for (VirtualIpRoute r : unpointable) {
      actions.add(
          new Alarm(
              AlarmKind.ROUTE_TABLE_PROBLEM,
              r.status() == VirtualIpRoute.Status.TABLE_MISSING
                  ? "route table "
                      + r.routeTable()
                      + " does not exist in "
                      + config.aws().region()
                      + ", so the controller cannot point it at the primary. Fix: correct its id"
                      + " in routeTables (or aws.region), or remove it"
                  : "route table "
                      + r.routeTable()
                      + " has no route for "
                      + config.virtualIp()
                      + " and createRouteIfMissing is off, so the controller cannot point it at"
                      + " the primary. Fix: aws ec2 create-route --route-table-id "
                      + r.routeTable()
                      + " --destination-cidr-block "
                      + config.virtualIp()
                      + " --network-interface-id "
                      + eni.orElse("<the primary's ENI>")
                      + ", or set createRouteIfMissing: true"));
    }
    return new Decision(d.reason(), d.message(), actions);
  }

  /**
   * Last, after the routes: a write stop the new primary carries (it was once an old primary, or
   * was cloned from one) is removed in its own step, whose failure must not keep the routes on the
   * older timeline. A node without one needs no step.
   */
  private static List<Action> allowWritesAfterPromotion(NodeObservation candidate) {
    return candidate.writesStopped()
        ? List.of(new Action.AllowWrites(candidate.node()))
        : List.of();
  }

  /**
   * Right after a promotion, before the routes move: the setting the new primary's role needs in
   * sync mode (SyncRules, rule 4), so it neither waits for itself nor lets writes through
   * unguarded. In async mode the setting is the operator's.
   */
  private List<Action> synchronousAfterPromotion(NodeObservation promoted) {
    if (!sync.on()) {
      return List.of();
    }
    String wanted = sync.afterPromotion(promoted.node());
    return wanted.equals(promoted.synchronousStandbyNames())
        ? List.of()
        : List.of(new Action.SetSynchronousStandbys(promoted.node(), wanted));
  }

  /** An operator's {@code failoverctl rejoin NODE}: the same guards as the automatic rejoin. */
  private Decision rejoin(Snapshot s, History h, Request.Rejoin request) {
    Optional<NodeConfig> node = config.node(request.node());
    if (node.isEmpty()) {
      return refused(
          "no node named "
              + request.node()
              + "; known nodes: "
              + config.nodes().stream().map(NodeConfig::name).collect(Collectors.joining(", ")));
    }
    if (node.get().agent().isEmpty()) {
      return refused(
          "node "
              + request.node()
              + " has no agent: add agent: {url, tokenFile} to it (README: Node agent)");
    }
    List<NodeObservation> primaries = primaries(s);
    if (primaries.isEmpty()
        || primaries.get(0).timeline().orElse(0) < h.highestPrimaryTimeline()
        || (primaries.size() > 1
            && primaries.get(1).timeline().orElse(0) == primaries.get(0).timeline().orElse(0))) {
      return refused(
          "no single primary answers on the newest timeline ("
              + h.highestPrimaryTimeline()
              + "): a rejoin needs one to follow; see failoverctl status");
    }
    NodeObservation primary = primaries.get(0);
    String eni = nodeConfig(primary.node()).eniId();
    if (s.routes().stream().anyMatch(r -> !r.pointsAt(eni) && !unpointable(r))) {
      return refused(
          "the route tables do not all point at primary "
              + primary.node()
              + " yet: the loop repoints them first; retry in a few seconds");
    }
    return rejoins
        .requested(request.node(), s, primary)
        .map(
            a ->
                new Decision(
                    Reason.REJOIN,
                    "rejoining "
                        + request.node()
                        + " as a standby of "
                        + primary.node()
                        + " (operator request)",
                    List.of(a)))
        .orElseGet(
            () ->
                refused(
                    request.node()
                        + " is the primary on the newest timeline: it is what others rejoin,"
                        + " never rejoined"));
  }

  private ActiveWitness activeWitness(Snapshot s, History h, String failed) {
    Optional<Instant> since = Optional.ofNullable(h.failingSince().get(failed));
    // A first failed probe that failed at once (refused, unreachable) is taken as if it had waited
    // out its timeout: the standby host's last reach of a primary that died just before it, dated
    // a few milliseconds late, would otherwise seem to come after it and veto every loop after.
    Optional<Instant> vetoAfter =
        Optional.ofNullable(h.firstFailureSeen().get(failed))
            .map(
                seen -> {
                  Instant waited = since.orElse(seen).plus(config.probe().timeout());
                  return seen.isAfter(waited) ? seen : waited;
                });
    // The others must have been silent since the controller's first failed probe began, give or
    // take what a live primary takes to answer a probe (a tenth of its timeout, as the re-check):
    // a primary that answered them within that first moment may have died just after, which is
    // when that probe, sent a few ms before, went unanswered.
    Optional<Instant> silentSince = since.map(t -> t.plus(config.probe().timeout().dividedBy(10)));
    return ActiveWitness.of(s, nodeConfig(failed), silentSince, vetoAfter, h.lastHeard());
  }

  private List<Action> fenceIfWritable(NodeObservation stale) {
    // A primary that refuses writes (stopped by a switchover) cannot fork history: leave it for
    // re-joining.
    if (config.failover().fencing() != FailoverPolicy.Fencing.STOP_INSTANCE
        || stale.writable().filter(w -> !w).isPresent()) {
      return List.of();
    }
    return List.of(new Action.Fence(stale.node(), nodeConfig(stale.node()).instanceId()));
  }

  /** Reachable primaries, newest timeline first. */
  private static List<NodeObservation> primaries(Snapshot s) {
    return s.nodes().values().stream()
        .filter(NodeObservation::isPrimary)
        .sorted(
            Comparator.comparingLong((NodeObservation o) -> o.timeline().orElse(0))
                .reversed()
                .thenComparing(NodeObservation::node))
        .toList();
  }

  /**
   * The primary that is gone: the one last seen as primary, else the node the route tables point
   * at.
   */
  private Optional<String> failedPrimary(Snapshot s, History h) {
    if (h.lastPrimary().isPresent()) {
      return h.lastPrimary();
    }
    return s.routes().stream()
        .filter(r -> r.status() == VirtualIpRoute.Status.TARGET)
        .map(r -> config.nodeByTarget(r.target().get()).map(NodeConfig::name))
        .flatMap(Optional::stream)
        .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()))
        .entrySet()
        .stream()
        .max(java.util.Map.Entry.comparingByValue())
        .map(java.util.Map.Entry::getKey);
  }

  /**
   * Whether a WAL receiver streams from this node. A sender matching no configured node is counted
   * as the primary: the witness may then only delay a failover, never cause a wrong one.
   */
  private boolean streamsFrom(Witness w, NodeConfig node) {
    boolean matchesNode = node.host().equals(w.senderHost()) && node.port() == w.senderPort();
    boolean matchesAny =
        config.nodes().stream()
            .anyMatch(n -> n.host().equals(w.senderHost()) && n.port() == w.senderPort());
    return matchesNode || !matchesAny;
  }

  private static String witnessNote(Snapshot s, String failed) {
    return s.nodes().values().stream()
        .filter(NodeObservation::isStandby)
        .filter(o -> !o.node().equals(failed))
        .findFirst()
        .map(
            o ->
                o.witness()
                    .filter(Witness::streaming)
                    .map(
                        w ->
                            String.format(
                                Locale.ROOT,
                                ", standby %s last heard from it %.1f s ago",
                                o.node(),
                                w.sinceLastMessage().toMillis() / 1000.0))
                    .orElse(", standby " + o.node() + " is not streaming from it"))
        .orElse("");
  }

  private static String failureOf(Snapshot s, String node) {
    return s.node(node)
        .flatMap(NodeObservation::failure)
        .map(NodeObservation::text)
        .orElse(
            s.node(node)
                .map(o -> o.reachable() ? "reachable" : "unreachable")
                .orElse("not probed"));
  }

  private String describe(VirtualIpRoute r) {
    return r.routeTable()
        + " "
        + switch (r.status()) {
          case TARGET ->
              "on "
                  + config
                      .nodeByTarget(r.target().get())
                      .map(NodeConfig::name)
                      .orElse(r.target().get());
          case ABSENT -> "has no route";
          case BLACKHOLE -> "blackhole";
          case TABLE_MISSING -> "missing";
          case UNKNOWN -> "unread";
        };
  }

  private NodeConfig nodeConfig(String name) {
    return config
        .node(name)
        .orElseThrow(
            () -> new IllegalStateException("snapshot names a node the config lacks: " + name));
  }

  private static Decision alarmOnly(Reason reason, AlarmKind kind, String message) {
    return new Decision(reason, message, List.of(new Alarm(kind, message)));
  }

  private static Decision refused(String message) {
    return alarmOnly(
        Reason.REQUEST_REFUSED, AlarmKind.REQUEST_REFUSED, "request refused: " + message);
  }

  private static String names(List<NodeObservation> nodes) {
    return nodes.stream().map(NodeObservation::node).collect(Collectors.joining(", "));
  }
}
