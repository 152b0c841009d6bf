package io.pgfailover.controller.wiring;

import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.NodeConfig;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.decide.Witness;
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.port.PostgresNodes;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.probe.Lsn;
import io.pgfailover.probe.NodeEndpoint;
import io.pgfailover.probe.PgProbe;
import io.pgfailover.probe.ProbeResult;
import io.pgfailover.probe.ProbeSettings;
import io.pgfailover.probe.PromotionResult;
import io.pgfailover.probe.Role;
import io.pgfailover.probe.RoleGrants;
import io.pgfailover.probe.WriteCheck;
import io.pgfailover.probe.WriteControl;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** {@link PostgresNodes} over pg-probe: probes, promotion and the switchover's write control. */
final class PgProbeNodes implements PostgresNodes, AutoCloseable {
  /** Bound on preflight's privilege check (one connection and two queries). */
  private static final Duration PREFLIGHT_BUDGET = Duration.ofSeconds(5);

  /** A standby that never heard from its primary counts as not hearing it now. */
  private static final Duration NEVER = Duration.ofDays(365);

  private final PgProbe probe;
  private final WriteControl writes;
  private final Map<String, NodeEndpoint> endpoints = new LinkedHashMap<>();

  PgProbeNodes(ControllerConfig config) {
    Duration timeout = config.probe().timeout();
    // The heartbeat write gets half the deadline, so a blocked write still leaves time to report
    // it.
    Duration writeTimeout = timeout.dividedBy(2);
    this.probe = new PgProbe(new ProbeSettings(timeout, writeTimeout, config.probe().writeCheck()));
    this.writes = new WriteControl(Duration.ofSeconds(5));
    config.nodes().forEach(n -> endpoints.put(n.name(), endpoint(n)));
  }

  static NodeEndpoint endpoint(NodeConfig n) {
    return new NodeEndpoint(
        n.name(), n.host(), n.port(), n.database(), n.user(), n.password().source(), n.jdbc());
  }

  @Override
  public NodeObservation probe(NodeConfig node) {
    return observation(probe.probe(endpoints.get(node.name())));
  }

  @Override
  public NodeObservation watch(NodeConfig node) {
    return observation(probe.watch(endpoints.get(node.name())));
  }

  @Override
  public void openWatch(NodeConfig node) {
    probe.openWatch(endpoints.get(node.name()));
  }

  @Override
  public OptionalLong lastHeard(NodeConfig node) {
    return probe.lastHeardOnProbe(node.name());
  }

  @Override
  public NodeObservation probe(NodeConfig node, Duration deadline) {
    return observation(probe.probe(endpoints.get(node.name()), deadline));
  }

  static NodeObservation observation(ProbeResult r) {
    if (!r.reachable()) {
      return NodeObservation.unreachable(r.node(), r.reachability());
    }
    Role role = r.role();
    Optional<Lsn> position =
        role == Role.PRIMARY ? r.currentLsn() : r.receiveLsn().or(r::replayLsn);
    Optional<Witness> witness =
        r.walReceiver()
            .map(
                w ->
                    new Witness(
                        w.streaming(),
                        w.senderHost(),
                        w.senderPort(),
                        w.sinceLastMessage().orElse(NEVER),
                        Optional.of(r.observedAt()),
                        Optional.of(r.observedAt().plus(r.latency()))));
    return new NodeObservation(
        r.node(),
        true,
        Optional.empty(),
        role,
        r.timeline(),
        position.map(l -> OptionalLong.of(l.value())).orElse(OptionalLong.empty()),
        witness,
        r.writeCheck().map(WriteCheck::ok),
        r.settings().map(ProbeResult.ServerSettings::writesStopped).orElse(false),
        r.settings().map(ProbeResult.ServerSettings::synchronousStandbyNames).orElse(""),
        r.replicas());
  }

  /**
   * {@code failoverctl preflight} for one node: reachable, and its login role holds every privilege
   * the controller uses (config/roles.sql grants them), each missing one a FAIL with its GRANT.
   */
  NodePreflight preflight(NodeConfig node) {
    NodeObservation o = probe(node);
    return new NodePreflight(preflightChecks(node, o), o.isPrimary());
  }

  /** One node's preflight lines, and whether it answered as the primary. */
  record NodePreflight(List<Backends.Check> checks, boolean primary) {}

  private List<Backends.Check> preflightChecks(NodeConfig node, NodeObservation o) {
    String subject = "node " + node.name();
    if (!o.reachable()) {
      return List.of(
          new Backends.Check(
              Backends.Check.Severity.FAIL,
              subject,
              "not reachable: " + o.failure().map(NodeObservation::text).orElse("unknown"),
              "check host/port/user/password and pg_hba.conf for the controller's address"));
    }
    List<Backends.Check> checks = new ArrayList<>();
    checks.add(
        new Backends.Check(
            Backends.Check.Severity.OK,
            subject,
            "reachable as " + o.role() + " on timeline " + o.timeline().orElse(0),
            ""));
    RoleGrants grants = RoleGrants.check(endpoints.get(node.name()), PREFLIGHT_BUDGET);
    String role = "role " + grants.role() + " on " + node.name();
    if (grants.error().isPresent()) {
      checks.add(
          new Backends.Check(
              Backends.Check.Severity.WARN,
              role,
              "could not check its privileges: " + grants.error().get(),
              "run preflight again; apply config/roles.sql if the role is new"));
    } else if (grants.superuser()) {
      checks.add(
          new Backends.Check(
              Backends.Check.Severity.WARN,
              role,
              "is a superuser: everything works, but the controller needs far less",
              "apply config/roles.sql and set user: " + "pgfailover in the node's config"));
    } else if (grants.missing().isEmpty()) {
      checks.add(
          new Backends.Check(
              Backends.Check.Severity.OK, role, "has every privilege the controller uses", ""));
    } else {
      grants
          .missing()
          .forEach(
              m ->
                  checks.add(
                      new Backends.Check(
                          Backends.Check.Severity.FAIL,
                          role,
                          "cannot " + m.needed(),
                          m.grant() + " (config/roles.sql)")));
    }
    return checks;
  }

  @Override
  public StepResult promote(NodeConfig node, Duration timeout) {
    PromotionResult r = probe.promote(endpoints.get(node.name()), timeout);
    Map<String, Object> fields = new LinkedHashMap<>();
    r.timelineBefore().ifPresent(t -> fields.put("timeline_before", t));
    r.timelineAfter().ifPresent(t -> fields.put("timeline_after", t));
    fields.put("promote_ms", r.elapsed().toMillis());
    return switch (r.outcome()) {
      case PROMOTED ->
          StepResult.done(
              "promoted " + node.name() + " to timeline " + r.timelineAfter().orElse(0), fields);
      case ALREADY_PRIMARY -> StepResult.alreadyDone(node.name() + " is already primary", fields);
      case NOT_STARTED -> StepResult.failed(r.error().orElse("not promoted"), fields);
      case FAILED -> StepResult.failedMaybeChanged(r.error().orElse("promotion failed"), fields);
    };
  }

  @Override
  public StepResult stopWrites(NodeConfig node) {
    return step(writes.stopWrites(endpoints.get(node.name())), "writes stopped on " + node.name());
  }

  @Override
  public StepResult allowWrites(NodeConfig node) {
    return step(writes.allowWrites(endpoints.get(node.name())), "writes allowed on " + node.name());
  }

  @Override
  public StepResult setSynchronousStandbys(NodeConfig node, String names) {
    return step(
        writes.setSynchronousStandbyNames(endpoints.get(node.name()), names),
        names.isEmpty()
            ? "no synchronous standby on " + node.name()
            : "synchronous standby " + names + " on " + node.name());
  }

  @Override
  public StepResult awaitCatchUp(NodeConfig standby, NodeConfig primary, Duration timeout) {
    Optional<Lsn> target = writes.currentLsn(endpoints.get(primary.name()));
    if (target.isEmpty()) {
      return StepResult.failed("cannot read the WAL position of " + primary.name(), Map.of());
    }
    return step(
        writes.awaitReplay(endpoints.get(standby.name()), target.get(), timeout),
        standby.name() + " replayed up to " + target.get());
  }

  private static StepResult step(WriteControl.Result r, String success) {
    Map<String, Object> fields = new LinkedHashMap<>();
    r.lsn().ifPresent(l -> fields.put("lsn", l.toString()));
    if (r.sessionsEnded() > 0) {
      fields.put("sessions_ended", r.sessionsEnded());
    }
    if (r.sessionsNotEnded() > 0) {
      fields.put("superuser_sessions_not_ended", r.sessionsNotEnded());
    }
    if (!r.ok()) {
      return StepResult.failed(r.error().orElse("failed"), fields);
    }
    return r.changed()
        ? StepResult.done(success, fields)
        : StepResult.alreadyDone(success + " (already)", fields);
  }

  @Override
  public void close() {
    probe.close();
  }
}
