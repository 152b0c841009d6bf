package io.pgfailover.controller.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.probe.Reachability;
import io.pgfailover.probe.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Decision tables: each row is a sequence of snapshots; the decision on the last one is checked.
 */
class DeciderTest {
  static final String ENI_A = "eni-0aaaaaaaaaaaaaaaa";
  static final String ENI_B = "eni-0bbbbbbbbbbbbbbbb";
  static final String I_A = "i-0aaaaaaaaaaaaaaaa";

  static ControllerConfig config(String failoverBlock) {
    String yaml =
        """
        cluster: orders-db
        aws: {region: eu-west-1}
        virtualIp: 172.31.255.10/32
        routeTables: [rtb-0111111111111111a, rtb-0222222222222222b]
        nodes:
          - {name: pg-a, instanceId: i-0aaaaaaaaaaaaaaaa, eniId: eni-0aaaaaaaaaaaaaaaa, host: 10.0.1.10, user: pgfailover}
          - {name: pg-b, instanceId: i-0bbbbbbbbbbbbbbbb, eniId: eni-0bbbbbbbbbbbbbbbb, host: 10.0.2.10, user: pgfailover}
        probe: {interval: 1s, timeout: 1s, failureThreshold: 3}
        """
            + failoverBlock;
    try {
      return ConfigLoader.parse(yaml, "test.yaml");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static final ControllerConfig DEFAULTS = config("");
  static final ControllerConfig FENCING = config("failover: {fencing: stop-instance}\n");
  static final ControllerConfig MANUAL_ONLY = config("failover: {automatic: false}\n");
  static final ControllerConfig CREATES_ROUTES = config("createRouteIfMissing: true\n");

  // ---- builders
  // -------------------------------------------------------------------------------------

  static NodeObservation primary(String node, long timeline, long lsn) {
    return new NodeObservation(
        node,
        true,
        Optional.empty(),
        Role.PRIMARY,
        OptionalLong.of(timeline),
        OptionalLong.of(lsn),
        Optional.empty(),
        Optional.of(true),
        false,
        "",
        java.util.List.of());
  }

  static NodeObservation readOnlyPrimary(String node, long timeline, long lsn) {
    return new NodeObservation(
        node,
        true,
        Optional.empty(),
        Role.PRIMARY,
        OptionalLong.of(timeline),
        OptionalLong.of(lsn),
        Optional.empty(),
        Optional.of(false),
        false,
        "",
        java.util.List.of());
  }

  static NodeObservation standby(String node, long timeline, long lsn, Optional<Witness> witness) {
    return new NodeObservation(
        node,
        true,
        Optional.empty(),
        Role.STANDBY,
        OptionalLong.of(timeline),
        OptionalLong.of(lsn),
        witness,
        Optional.empty(),
        false,
        "",
        java.util.List.of());
  }

  /** The same node, its configuration stopping writes (an old primary's write stop it kept). */
  static NodeObservation writeStopped(NodeObservation o) {
    return new NodeObservation(
        o.node(),
        o.reachable(),
        o.failure(),
        o.role(),
        o.timeline(),
        o.walPosition(),
        o.witness(),
        o.writable(),
        true,
        o.synchronousStandbyNames(),
        o.replicas());
  }

  static NodeObservation standbyNotStreaming(String node, long timeline, long lsn) {
    return standby(node, timeline, lsn, Optional.empty());
  }

  /** A standby streaming from pg-a that heard from it {@code agoMillis} ago. */
  static NodeObservation standbyHearingA(String node, long lsn, long agoMillis) {
    return standby(
        node,
        1,
        lsn,
        Optional.of(new Witness(true, "10.0.1.10", 5432, Duration.ofMillis(agoMillis))));
  }

  static NodeObservation down(String node) {
    return NodeObservation.unreachable(node, Reachability.REFUSED);
  }

  static NodeObservation downTimeout(String node) {
    return NodeObservation.unreachable(node, Reachability.TIMEOUT);
  }

  /**
   * A snapshot taken {@code seconds} after the epoch, for rows where the time between loops
   * matters.
   */
  static Snapshot snapAt(long seconds, List<VirtualIpRoute> routes, NodeObservation... nodes) {
    Snapshot s = snap(routes, nodes);
    return new Snapshot(Instant.EPOCH.plusSeconds(seconds), s.nodes(), s.routes());
  }

  /** {@code s} taken {@code seconds} after the epoch. */
  static Snapshot at(long seconds, Snapshot s) {
    return new Snapshot(Instant.EPOCH.plusSeconds(seconds), s.nodes(), s.routes());
  }

  static List<VirtualIpRoute> routesOn(String eni) {
    return List.of(
        VirtualIpRoute.pointingAt("rtb-0111111111111111a", eni),
        VirtualIpRoute.pointingAt("rtb-0222222222222222b", eni));
  }

  static Snapshot snap(List<VirtualIpRoute> routes, NodeObservation... nodes) {
    Map<String, NodeObservation> m = new LinkedHashMap<>();
    Arrays.stream(nodes).forEach(n -> m.put(n.node(), n));
    return new Snapshot(Instant.EPOCH, m, routes);
  }

  static List<Snapshot> repeat(int times, Snapshot s) {
    List<Snapshot> out = new ArrayList<>();
    for (int i = 0; i < times; i++) {
      out.add(s);
    }
    return out;
  }

  @SafeVarargs
  static List<Snapshot> seq(List<Snapshot>... parts) {
    List<Snapshot> out = new ArrayList<>();
    Arrays.stream(parts).forEach(out::addAll);
    return out;
  }

  static final Snapshot HEALTHY =
      snap(routesOn(ENI_A), primary("pg-a", 1, 1000), standbyHearingA("pg-b", 1000, 200));
  static final Snapshot A_DOWN_B_DEAF =
      snap(routesOn(ENI_A), down("pg-a"), standbyNotStreaming("pg-b", 1, 1000));
  static final Snapshot A_TIMEOUT_B_DEAF =
      snap(routesOn(ENI_A), downTimeout("pg-a"), standbyNotStreaming("pg-b", 1, 1000));

  /** The primary's server answered but the probe could not finish: a lossy path. */
  static final Snapshot A_SLOW_B_DEAF =
      snap(
          routesOn(ENI_A),
          NodeObservation.unreachable("pg-a", Reachability.SLOW),
          standbyNotStreaming("pg-b", 1, 1000));

  /** A healthy pair, the first table on the primary, the second in {@code status}. */
  static Snapshot secondTable(VirtualIpRoute.Status status) {
    return snap(
        List.of(
            VirtualIpRoute.pointingAt("rtb-0111111111111111a", ENI_A),
            VirtualIpRoute.of("rtb-0222222222222222b", status)),
        primary("pg-a", 1, 1000),
        standbyHearingA("pg-b", 1000, 100));
  }

  static final Snapshot ONE_TABLE_ABSENT = secondTable(VirtualIpRoute.Status.ABSENT);

  // ---- the table
  // ------------------------------------------------------------------------------------

  record Row(
      String name,
      ControllerConfig config,
      List<Snapshot> snapshots,
      Optional<Request> request,
      Reason reason,
      List<String> actions) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Row row(
      String name, ControllerConfig c, List<Snapshot> s, Reason reason, String... actions) {
    return new Row(name, c, s, Optional.empty(), reason, List.of(actions));
  }

  static Row request(String name, List<Snapshot> s, Request r, Reason reason, String... actions) {
    return new Row(name, DEFAULTS, s, Optional.of(r), reason, List.of(actions));
  }

  static Stream<Arguments> rows() {
    return Stream.of(
            row("healthy, route on primary: nothing", DEFAULTS, List.of(HEALTHY), Reason.HEALTHY),
            row(
                "route drifted to the standby: repoint to the primary",
                DEFAULTS,
                List.of(
                    snap(
                        routesOn(ENI_B),
                        primary("pg-a", 1, 1000),
                        standbyHearingA("pg-b", 1000, 100))),
                Reason.REPOINT_ROUTES,
                "point_routes"),
            row(
                "one table absent, creating routes allowed: repoint (creates it)",
                CREATES_ROUTES,
                List.of(ONE_TABLE_ABSENT),
                Reason.REPOINT_ROUTES,
                "point_routes"),
            row(
                "one table absent, creating routes off: alarm, no route write",
                DEFAULTS,
                List.of(ONE_TABLE_ABSENT),
                Reason.ROUTE_TABLE_PROBLEM,
                "alarm"),
            row(
                "one table missing: alarm, no route write",
                DEFAULTS,
                List.of(secondTable(VirtualIpRoute.Status.TABLE_MISSING)),
                Reason.ROUTE_TABLE_PROBLEM,
                "alarm"),
            row(
                "one table absent, the other on the standby: repoint the other, alarm the absent",
                DEFAULTS,
                List.of(
                    snap(
                        List.of(
                            VirtualIpRoute.pointingAt("rtb-0111111111111111a", ENI_B),
                            VirtualIpRoute.of(
                                "rtb-0222222222222222b", VirtualIpRoute.Status.ABSENT)),
                        primary("pg-a", 1, 1000),
                        standbyHearingA("pg-b", 1000, 100))),
                Reason.REPOINT_ROUTES,
                "point_routes",
                "alarm"),
            row(
                "primary failed with one table absent: fail over, repoint the rest, alarm",
                DEFAULTS,
                seq(
                    List.of(HEALTHY),
                    repeat(
                        3,
                        snap(
                            ONE_TABLE_ABSENT.routes(),
                            down("pg-a"),
                            standbyNotStreaming("pg-b", 1, 1000)))),
                Reason.FAILOVER,
                "promote",
                "point_routes",
                "alarm"),
            row(
                "route tables unreadable: no route action",
                DEFAULTS,
                List.of(
                    snap(
                        List.of(
                            VirtualIpRoute.of(
                                "rtb-0111111111111111a", VirtualIpRoute.Status.UNKNOWN),
                            VirtualIpRoute.of(
                                "rtb-0222222222222222b", VirtualIpRoute.Status.UNKNOWN)),
                        primary("pg-a", 1, 1000),
                        standbyHearingA("pg-b", 1000, 100))),
                Reason.ROUTES_UNKNOWN),
            row(
                "primary failed twice of three: wait",
                DEFAULTS,
                seq(List.of(HEALTHY), repeat(2, A_DOWN_B_DEAF)),
                Reason.PRIMARY_SUSPECT),
            row(
                "a slow probe between timeouts: not consecutive failures, wait",
                DEFAULTS,
                seq(
                    List.of(HEALTHY),
                    repeat(2, A_TIMEOUT_B_DEAF),
                    List.of(A_SLOW_B_DEAF),
                    repeat(2, A_TIMEOUT_B_DEAF)),
                Reason.PRIMARY_SUSPECT),
            row(
                "primary slow, standby deaf: alive, never failed over",
                DEFAULTS,
                seq(List.of(HEALTHY), repeat(5, A_SLOW_B_DEAF)),
                Reason.PRIMARY_SUSPECT),
            row(
                "three timeouts after a slow probe: fail over",
                DEFAULTS,
                // (past the witness window since the standby last heard from it)
                List.of(
                    HEALTHY,
                    at(10, A_SLOW_B_DEAF),
                    at(11, A_TIMEOUT_B_DEAF),
                    at(12, A_TIMEOUT_B_DEAF),
                    at(13, A_TIMEOUT_B_DEAF)),
                Reason.FAILOVER,
                "promote",
                "point_routes"),
            row(
                "primary failed three times, standby deaf: fail over",
                DEFAULTS,
                seq(List.of(HEALTHY), repeat(3, A_DOWN_B_DEAF)),
                Reason.FAILOVER,
                "promote",
                "point_routes"),
            row(
                "the standby carries a write stop: fail over, then remove it after the routes",
                DEFAULTS,
                seq(
                    List.of(HEALTHY),
                    repeat(
                        3,
                        snap(
                            routesOn(ENI_A),
                            down("pg-a"),
                            writeStopped(standbyNotStreaming("pg-b", 1, 1000))))),
                Reason.FAILOVER,
                "promote",
                "point_routes",
                "allow_writes"),
            row(
                "same with fencing: fence first",
                FENCING,
                seq(List.of(HEALTHY), repeat(3, A_DOWN_B_DEAF)),
                Reason.FAILOVER,
                "fence",
                "promote",
                "point_routes"),
            row(
                "primary unreachable but standby heard it 300 ms ago: no failover, alarm",
                DEFAULTS,
                seq(
                    List.of(HEALTHY),
                    repeat(
                        3,
                        snap(routesOn(ENI_A), down("pg-a"), standbyHearingA("pg-b", 1000, 300)))),
                Reason.PRIMARY_ALIVE_PER_WITNESS,
                "alarm"),
            row(
                "standby still 'streaming' but silent past the witness window: fail over",
                DEFAULTS,
                seq(
                    List.of(HEALTHY),
                    repeat(
                        3,
                        snap(routesOn(ENI_A), down("pg-a"), standbyHearingA("pg-b", 1000, 7000)))),
                Reason.FAILOVER,
                "promote",
                "point_routes"),
            row(
                "primary times out, standby reconnecting but heard it 3.2 s ago: wait out the"
                    + " witness window",
                DEFAULTS,
                List.of(
                    snapAt(
                        0,
                        routesOn(ENI_A),
                        primary("pg-a", 1, 1000),
                        standbyHearingA("pg-b", 1000, 200)),
                    snapAt(
                        1,
                        routesOn(ENI_A),
                        downTimeout("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000)),
                    snapAt(
                        2,
                        routesOn(ENI_A),
                        downTimeout("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000)),
                    snapAt(
                        3,
                        routesOn(ENI_A),
                        downTimeout("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000))),
                Reason.PRIMARY_ALIVE_PER_WITNESS,
                "alarm"),
            row(
                "primary refuses (crashed), standby heard it 3.2 s ago: fail over at once",
                DEFAULTS,
                List.of(
                    snapAt(
                        0,
                        routesOn(ENI_A),
                        primary("pg-a", 1, 1000),
                        standbyHearingA("pg-b", 1000, 200)),
                    snapAt(1, routesOn(ENI_A), down("pg-a"), standbyNotStreaming("pg-b", 1, 1000)),
                    snapAt(2, routesOn(ENI_A), down("pg-a"), standbyNotStreaming("pg-b", 1, 1000)),
                    snapAt(3, routesOn(ENI_A), down("pg-a"), standbyNotStreaming("pg-b", 1, 1000))),
                Reason.FAILOVER,
                "promote",
                "point_routes"),
            row(
                "primary times out and the standby last heard it 6.2 s ago: fail over",
                DEFAULTS,
                List.of(
                    snapAt(
                        0,
                        routesOn(ENI_A),
                        primary("pg-a", 1, 1000),
                        standbyHearingA("pg-b", 1000, 200)),
                    snapAt(
                        4,
                        routesOn(ENI_A),
                        downTimeout("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000)),
                    snapAt(
                        5,
                        routesOn(ENI_A),
                        downTimeout("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000)),
                    snapAt(
                        6,
                        routesOn(ENI_A),
                        downTimeout("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000))),
                Reason.FAILOVER,
                "promote",
                "point_routes"),
            row(
                "standby down when the primary dies: no promotion, alarm",
                DEFAULTS,
                seq(List.of(HEALTHY), repeat(3, snap(routesOn(ENI_A), down("pg-a"), down("pg-b")))),
                Reason.NO_CANDIDATE,
                "alarm"),
            row(
                "standby lag over the limit: no automatic promotion",
                DEFAULTS,
                seq(
                    List.of(
                        snap(
                            routesOn(ENI_A),
                            primary("pg-a", 1, 100_000_000),
                            standbyHearingA("pg-b", 1000, 100))),
                    repeat(
                        3,
                        snap(routesOn(ENI_A), down("pg-a"), standbyNotStreaming("pg-b", 1, 1000)))),
                Reason.LAG_TOO_HIGH,
                "alarm"),
            row(
                "automatic failover off: alarm only",
                MANUAL_ONLY,
                seq(List.of(HEALTHY), repeat(3, A_DOWN_B_DEAF)),
                Reason.AUTOMATIC_FAILOVER_OFF,
                "alarm"),
            row(
                "controller restarted mid-failover (promoted, route still on old): repoint",
                DEFAULTS,
                List.of(snap(routesOn(ENI_A), down("pg-a"), primary("pg-b", 2, 2000))),
                Reason.REPOINT_ROUTES,
                "point_routes"),
            row(
                "old primary came back writable beside the new one: route stays on newest, alarm",
                DEFAULTS,
                List.of(snap(routesOn(ENI_B), primary("pg-a", 1, 1000), primary("pg-b", 2, 2000))),
                Reason.TWO_PRIMARIES,
                "alarm"),
            row(
                "old primary came back, route still on it: repoint to newest",
                DEFAULTS,
                List.of(snap(routesOn(ENI_A), primary("pg-a", 1, 1000), primary("pg-b", 2, 2000))),
                Reason.TWO_PRIMARIES,
                "alarm",
                "point_routes"),
            row(
                "old primary came back with fencing: fence it",
                FENCING,
                List.of(snap(routesOn(ENI_B), primary("pg-a", 1, 1000), primary("pg-b", 2, 2000))),
                Reason.TWO_PRIMARIES,
                "fence",
                "alarm"),
            row(
                "old primary back but read-only (after switchover): not fenced",
                FENCING,
                List.of(
                    snap(
                        routesOn(ENI_B),
                        readOnlyPrimary("pg-a", 1, 1000),
                        primary("pg-b", 2, 2000))),
                Reason.TWO_PRIMARIES,
                "alarm"),
            row(
                "two primaries on one timeline: no route change, alarm",
                DEFAULTS,
                List.of(snap(routesOn(ENI_A), primary("pg-a", 2, 1000), primary("pg-b", 2, 2000))),
                Reason.TWO_PRIMARIES,
                "alarm"),
            row(
                "only an older-timeline primary is up: never routed to",
                DEFAULTS,
                List.of(
                    snap(routesOn(ENI_B), down("pg-a"), primary("pg-b", 2, 2000)),
                    snap(routesOn(ENI_B), primary("pg-a", 1, 1000), down("pg-b"))),
                Reason.STALE_PRIMARY,
                "alarm"),
            row(
                "standby down while primary healthy: alarm only",
                DEFAULTS,
                seq(repeat(3, snap(routesOn(ENI_A), primary("pg-a", 1, 1000), down("pg-b")))),
                Reason.HEALTHY,
                "alarm"),
            row(
                "primary read-only: alarm, no failover",
                DEFAULTS,
                List.of(
                    snap(
                        routesOn(ENI_A),
                        readOnlyPrimary("pg-a", 1, 1000),
                        standbyHearingA("pg-b", 1000, 100))),
                Reason.HEALTHY,
                "alarm"),
            row(
                "controller starts during an outage: failed primary taken from the route",
                DEFAULTS,
                repeat(3, A_DOWN_B_DEAF),
                Reason.FAILOVER,
                "promote",
                "point_routes"),
            row(
                "standby behind on timeline: not promoted",
                DEFAULTS,
                seq(
                    List.of(
                        snap(
                            routesOn(ENI_A),
                            primary("pg-a", 3, 1000),
                            standbyHearingA("pg-b", 1000, 100))),
                    repeat(3, A_DOWN_B_DEAF)),
                Reason.NO_CANDIDATE,
                "alarm"),
            row(
                "nothing reachable and nothing known: no primary alarm",
                DEFAULTS,
                List.of(
                    snap(
                        List.of(
                            VirtualIpRoute.of(
                                "rtb-0111111111111111a", VirtualIpRoute.Status.UNKNOWN)),
                        down("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000))),
                Reason.NO_PRIMARY,
                "alarm"),
            request(
                "manual failover while primary healthy: refused",
                List.of(HEALTHY),
                new Request.Failover(Optional.empty(), false),
                Reason.REQUEST_REFUSED,
                "alarm"),
            request(
                "manual failover --force while primary healthy: stop writes first",
                List.of(HEALTHY),
                new Request.Failover(Optional.empty(), true),
                Reason.MANUAL_FAILOVER,
                "stop_writes",
                "promote",
                "point_routes"),
            request(
                "manual failover before the threshold: promote at once",
                seq(List.of(HEALTHY), List.of(A_DOWN_B_DEAF)),
                new Request.Failover(Optional.of("pg-b"), false),
                Reason.MANUAL_FAILOVER,
                "promote",
                "point_routes"),
            request(
                "manual failover to an unknown node: refused",
                List.of(HEALTHY),
                new Request.Failover(Optional.of("pg-z"), true),
                Reason.REQUEST_REFUSED,
                "alarm"),
            request(
                "manual failover refused by a witness without --force",
                seq(
                    List.of(HEALTHY),
                    List.of(
                        snap(routesOn(ENI_A), down("pg-a"), standbyHearingA("pg-b", 1000, 100)))),
                new Request.Failover(Optional.empty(), false),
                Reason.PRIMARY_ALIVE_PER_WITNESS,
                "alarm"),
            request(
                "switchover: stop writes, catch up, promote, repoint",
                List.of(HEALTHY),
                new Request.Switchover("pg-b"),
                Reason.SWITCHOVER,
                "stop_writes",
                "await_catch_up",
                "promote",
                "point_routes"),
            request(
                "switchover to a standby that carries a write stop: its removal is the last step",
                List.of(
                    snap(
                        routesOn(ENI_A),
                        primary("pg-a", 1, 1000),
                        writeStopped(standbyHearingA("pg-b", 1000, 200)))),
                new Request.Switchover("pg-b"),
                Reason.SWITCHOVER,
                "stop_writes",
                "await_catch_up",
                "promote",
                "point_routes",
                "allow_writes"),
            request(
                "switchover to the primary: refused",
                List.of(HEALTHY),
                new Request.Switchover("pg-a"),
                Reason.REQUEST_REFUSED,
                "alarm"),
            request(
                "switchover with the primary down: refused",
                seq(List.of(HEALTHY), List.of(A_DOWN_B_DEAF)),
                new Request.Switchover("pg-b"),
                Reason.REQUEST_REFUSED,
                "alarm"),
            request(
                "switchover to a standby far behind: refused",
                List.of(
                    snap(
                        routesOn(ENI_A),
                        primary("pg-a", 1, 100_000_000),
                        standbyHearingA("pg-b", 1000, 100))),
                new Request.Switchover("pg-b"),
                Reason.REQUEST_REFUSED,
                "alarm"))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void decides(Row row) {
    History history = History.empty();
    for (Snapshot s : row.snapshots()) {
      history = history.next(s);
    }
    Snapshot last = row.snapshots().get(row.snapshots().size() - 1);
    Decider decider = new Decider(row.config());
    History h = history;
    Decision d =
        row.request().map(r -> decider.decide(last, h, r)).orElseGet(() -> decider.decide(last, h));
    assertEquals(row.reason(), d.reason(), d.message());
    assertEquals(row.actions(), d.actions().stream().map(Action::name).toList(), d.message());
    assertEquals(
        SENTENCES.get(row.name()),
        d.reason() + ": " + d.message(),
        "the sentence operators read (and the README quotes)");
  }

  /**
   * Each row's sentence as the loop logs it, {@code status} shows it and the README quotes it:
   * "REASON: message". Pinned so that a change to one is a decision, not an accident.
   */
  static final Map<String, String> SENTENCES =
      Map.ofEntries(
          Map.entry(
              "healthy, route on primary: nothing",
              "HEALTHY: no action: route on pg-a, primary healthy"),
          Map.entry(
              "route drifted to the standby: repoint to the primary",
              "REPOINT_ROUTES: primary pg-a (timeline 1); repointing 2 route table(s)"
                  + " (rtb-0111111111111111a on pg-b, rtb-0222222222222222b on pg-b) to pg-a"),
          Map.entry(
              "one table absent, creating routes allowed: repoint (creates it)",
              "REPOINT_ROUTES: primary pg-a (timeline 1); repointing 1 route table(s)"
                  + " (rtb-0222222222222222b has no route) to pg-a"),
          Map.entry(
              "one table absent, creating routes off: alarm, no route write",
              "ROUTE_TABLE_PROBLEM: primary pg-a (timeline 1); route table rtb-0222222222222222b"
                  + " has no route for the virtual IP and may not get one: alarmed, not written"),
          Map.entry(
              "one table missing: alarm, no route write",
              "ROUTE_TABLE_PROBLEM: primary pg-a (timeline 1); route table rtb-0222222222222222b"
                  + " does not exist: alarmed, not written"),
          Map.entry(
              "one table absent, the other on the standby: repoint the other, alarm the absent",
              "REPOINT_ROUTES: primary pg-a (timeline 1); repointing 1 route table(s)"
                  + " (rtb-0111111111111111a on pg-b) to pg-a; route table rtb-0222222222222222b"
                  + " has no route for the virtual IP and may not get one: alarmed, not written"),
          Map.entry(
              "primary failed with one table absent: fail over, repoint the rest, alarm",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b is"
                  + " not streaming from it, lag 0 bytes"),
          Map.entry(
              "route tables unreadable: no route action",
              "ROUTES_UNKNOWN: primary pg-a (timeline 1); route tables could not be read"),
          Map.entry(
              "primary failed twice of three: wait",
              "PRIMARY_SUSPECT: waiting: primary pg-a failed 2/3 probes (refused)"),
          Map.entry(
              "a slow probe between timeouts: not consecutive failures, wait",
              "PRIMARY_SUSPECT: waiting: primary pg-a failed 2/3 probes (timeout)"),
          Map.entry(
              "primary slow, standby deaf: alive, never failed over",
              "PRIMARY_SUSPECT: waiting: primary pg-a is slow: its server answered but the probe"
                  + " could not finish in time; alive, so not a failed probe"),
          Map.entry(
              "three timeouts after a slow probe: fail over",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (timeout), standby pg-b is"
                  + " not streaming from it, lag 0 bytes"),
          Map.entry(
              "primary failed three times, standby deaf: fail over",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b is"
                  + " not streaming from it, lag 0 bytes"),
          Map.entry(
              "the standby carries a write stop: fail over, then remove it after the routes",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b is"
                  + " not streaming from it, lag 0 bytes"),
          Map.entry(
              "same with fencing: fence first",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b is"
                  + " not streaming from it, lag 0 bytes"),
          Map.entry(
              "primary unreachable but standby heard it 300 ms ago: no failover, alarm",
              "PRIMARY_ALIVE_PER_WITNESS: no failover: primary pg-a unreachable from the controller"
                  + " (refused) but standby pg-b heard from it 0.3 s ago: the controller's path is"
                  + " broken"),
          Map.entry(
              "standby still 'streaming' but silent past the witness window: fail over",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b last"
                  + " heard from it 7.0 s ago, lag 0 bytes"),
          Map.entry(
              "primary times out, standby reconnecting but heard it 3.2 s ago: wait out the witness"
                  + " window",
              "PRIMARY_ALIVE_PER_WITNESS: no failover yet: primary pg-a times out from the"
                  + " controller but standby pg-b heard from it 3.2 s ago (its WAL receiver is not"
                  + " streaming now): waiting out the 5 s witness window"),
          Map.entry(
              "primary refuses (crashed), standby heard it 3.2 s ago: fail over at once",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b is"
                  + " not streaming from it, lag 0 bytes"),
          Map.entry(
              "primary times out and the standby last heard it 6.2 s ago: fail over",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (timeout), standby pg-b is"
                  + " not streaming from it, lag 0 bytes"),
          Map.entry(
              "standby down when the primary dies: no promotion, alarm",
              "NO_CANDIDATE: primary pg-a failed (refused) but no standby is reachable: no"
                  + " promotion"),
          Map.entry(
              "standby lag over the limit: no automatic promotion",
              "LAG_TOO_HIGH: primary pg-a failed but standby pg-b is 99999000 bytes behind its last"
                  + " known position (limit 16777216): not promoting automatically; an operator may"
                  + " run failover --force"),
          Map.entry(
              "automatic failover off: alarm only",
              "AUTOMATIC_FAILOVER_OFF: primary pg-a failed (refused); automatic failover is off:"
                  + " run failoverctl failover to promote pg-b"),
          Map.entry(
              "controller restarted mid-failover (promoted, route still on old): repoint",
              "REPOINT_ROUTES: primary pg-b (timeline 2); repointing 2 route table(s)"
                  + " (rtb-0111111111111111a on pg-a, rtb-0222222222222222b on pg-a) to pg-b"),
          Map.entry(
              "old primary came back writable beside the new one: route stays on newest, alarm",
              "TWO_PRIMARIES: primary pg-b (timeline 2); old primary pg-a is up on older timeline"
                  + " 1"),
          Map.entry(
              "old primary came back, route still on it: repoint to newest",
              "TWO_PRIMARIES: primary pg-b (timeline 2); old primary pg-a is up on older timeline"
                  + " 1; repointing 2 route table(s) (rtb-0111111111111111a on pg-a,"
                  + " rtb-0222222222222222b on pg-a) to pg-b"),
          Map.entry(
              "old primary came back with fencing: fence it",
              "TWO_PRIMARIES: primary pg-b (timeline 2); old primary pg-a is up on older timeline"
                  + " 1"),
          Map.entry(
              "old primary back but read-only (after switchover): not fenced",
              "TWO_PRIMARIES: primary pg-b (timeline 2); old primary pg-a is up on older timeline 1"
                  + " (read-only)"),
          Map.entry(
              "two primaries on one timeline: no route change, alarm",
              "TWO_PRIMARIES: two primaries on the same timeline 2 (pg-a, pg-b): cannot tell which"
                  + " is newer, routes left as they are; stop one by hand"),
          Map.entry(
              "only an older-timeline primary is up: never routed to",
              "STALE_PRIMARY: stale primary pg-a (timeline 1 < 2) is not routed to"),
          Map.entry(
              "standby down while primary healthy: alarm only",
              "HEALTHY: no action: route on pg-a, primary healthy; standby pg-b down"),
          Map.entry(
              "primary read-only: alarm, no failover",
              "HEALTHY: no action: route on pg-a, primary healthy; primary pg-a cannot write"),
          Map.entry(
              "controller starts during an outage: failed primary taken from the route",
              "FAILOVER: promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b is"
                  + " not streaming from it, lag unknown"),
          Map.entry(
              "standby behind on timeline: not promoted",
              "NO_CANDIDATE: standby pg-b is on timeline 1, older than timeline 3 already seen: not"
                  + " promoting it"),
          Map.entry(
              "nothing reachable and nothing known: no primary alarm",
              "NO_PRIMARY: no node reports itself primary and none is known to have been: nothing"
                  + " to fail over from; check the nodes"),
          Map.entry(
              "manual failover while primary healthy: refused",
              "REQUEST_REFUSED: request refused: primary pg-a is healthy: use switchover to move it"
                  + " without losing writes, or failover --force"),
          Map.entry(
              "manual failover --force while primary healthy: stop writes first",
              "MANUAL_FAILOVER: promoting pg-b: operator failover: pg-a is up, its writes are"
                  + " stopped first, standby pg-b last heard from it 0.2 s ago, lag 0 bytes"),
          Map.entry(
              "manual failover before the threshold: promote at once",
              "MANUAL_FAILOVER: promoting pg-b: operator failover: pg-a failed 1 probe (refused),"
                  + " standby pg-b is not streaming from it, lag 0 bytes"),
          Map.entry(
              "manual failover to an unknown node: refused",
              "REQUEST_REFUSED: request refused: no node named pg-z; known nodes: pg-a, pg-b"),
          Map.entry(
              "manual failover refused by a witness without --force",
              "PRIMARY_ALIVE_PER_WITNESS: no failover: primary pg-a unreachable from the controller"
                  + " (refused) but standby pg-b heard from it 0.1 s ago: the controller's path is"
                  + " broken"),
          Map.entry(
              "switchover: stop writes, catch up, promote, repoint",
              "SWITCHOVER: switchover pg-a -> pg-b: stop writes, catch up, promote, repoint"),
          Map.entry(
              "switchover to a standby that carries a write stop: its removal is the last step",
              "SWITCHOVER: switchover pg-a -> pg-b: stop writes, catch up, promote, repoint"),
          Map.entry(
              "switchover to the primary: refused",
              "REQUEST_REFUSED: request refused: pg-a is already the primary"),
          Map.entry(
              "switchover with the primary down: refused",
              "REQUEST_REFUSED: request refused: no reachable primary: a switchover needs a healthy"
                  + " one; use failover"),
          Map.entry(
              "switchover to a standby far behind: refused",
              "REQUEST_REFUSED: request refused: pg-b is 99999000 bytes behind (limit 16777216):"
                  + " writes would stop until it catches up; wait and retry"));

  @Test
  void theReadmesExampleSentenceIsOneTheDeciderSays() throws Exception {
    String readme =
        java.nio.file.Files.readString(
                java.nio.file.Path.of(System.getProperty("user.dir"))
                    .getParent()
                    .resolve("README.md"))
            .replaceAll("\\s+", " ");
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("e\\.g\\. `(FAILOVER: [^`]*)`").matcher(readme);
    assertTrue(m.find(), "the README's Decide paragraph gives an example sentence");
    assertTrue(SENTENCES.containsValue(m.group(1)), m.group(1));
  }

  @Test
  void everyRowHasItsSentence() {
    assertEquals(
        rows().map(a -> ((Row) a.get()[0]).name()).collect(java.util.stream.Collectors.toSet()),
        SENTENCES.keySet());
  }

  @Test
  void aTableThatCannotBePointedIsAlarmedWithTheCommandThatFixesIt() {
    Decision d =
        new Decider(DEFAULTS).decide(ONE_TABLE_ABSENT, History.empty().next(ONE_TABLE_ABSENT));
    assertEquals(
        List.of(
            new Action.Alarm(
                Action.AlarmKind.ROUTE_TABLE_PROBLEM,
                "route table rtb-0222222222222222b has no route for 172.31.255.10/32 and"
                    + " createRouteIfMissing is off, so the controller cannot point it at the"
                    + " primary. Fix: aws ec2 create-route --route-table-id rtb-0222222222222222b"
                    + " --destination-cidr-block 172.31.255.10/32 --network-interface-id "
                    + ENI_A
                    + ", or set createRouteIfMissing: true")),
        d.actions());
    assertEquals(
        "primary pg-a (timeline 1); route table rtb-0222222222222222b has no route for the virtual"
            + " IP and may not get one: alarmed, not written",
        d.message());

    Snapshot missing = secondTable(VirtualIpRoute.Status.TABLE_MISSING);
    assertEquals(
        List.of(
            new Action.Alarm(
                Action.AlarmKind.ROUTE_TABLE_PROBLEM,
                "route table rtb-0222222222222222b does not exist in eu-west-1, so the controller"
                    + " cannot point it at the primary. Fix: correct its id in routeTables (or"
                    + " aws.region), or remove it")),
        new Decider(DEFAULTS).decide(missing, History.empty().next(missing)).actions());
  }
}
