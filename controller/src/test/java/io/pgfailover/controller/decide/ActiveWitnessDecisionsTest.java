package io.pgfailover.controller.decide;

import static io.pgfailover.controller.decide.DeciderTest.ENI_A;
import static io.pgfailover.controller.decide.DeciderTest.downTimeout;
import static io.pgfailover.controller.decide.DeciderTest.routesOn;
import static io.pgfailover.controller.decide.DeciderTest.standbyHearingA;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.probe.Role;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The active witness (ActiveWitness): what the standby's host saw of a primary the controller
 * cannot reach, on top of what its WAL receiver last heard. One loop a second; the primary (pg-a,
 * 10.0.1.10:5432) times out from the controller from the second loop on.
 */
class ActiveWitnessDecisionsTest {

  /** pg-b's agent's view of pg-a; its last answer was its last reach. */
  static NodeAgents.Reply<NodeAgents.Facts> upstream(
      long sinceReachedMs, Role reachedAs, int failures, String lastFailure) {
    return upstream(sinceReachedMs, reachedAs, sinceReachedMs, failures, lastFailure);
  }

  /** pg-b's agent's view of pg-a, with a {@code slow} probe {@code sinceAnsweredMs} ago. */
  static NodeAgents.Reply<NodeAgents.Facts> upstream(
      long sinceReachedMs, Role reachedAs, long sinceAnsweredMs, int failures, String lastFailure) {
    return NodeAgents.Reply.of(
        new NodeAgents.Facts(
            "pg-b",
            true,
            OptionalLong.empty(),
            "15.18",
            "/var/lib/pgsql/data",
            0,
            0,
            true,
            Optional.empty(),
            Optional.empty(),
            Role.STANDBY,
            OptionalLong.of(1),
            List.of(),
            NodeAgents.Rejoin.idle(),
            Optional.of(
                new NodeAgents.Upstream(
                    "10.0.1.10:5432",
                    OptionalLong.of(sinceReachedMs),
                    Optional.of(reachedAs),
                    OptionalLong.of(sinceAnsweredMs),
                    failures,
                    failures == 0 ? Optional.empty() : Optional.of(lastFailure),
                    OptionalLong.of(200)))));
  }

  /**
   * Loop 0 healthy, then {@code failedLoops} loops of pg-a timing out, with pg-b's view, each
   * observed in an instant.
   */
  static List<Snapshot> looks(
      int failedLoops, long heardMs, Optional<NodeAgents.Reply<NodeAgents.Facts>> agent) {
    return looks(failedLoops, 0, pg -> downTimeout("pg-a"), heardMs, agent);
  }

  /**
   * As above, each loop starting a second after the last and observing for {@code observingMs} (the
   * time a probe waited out, and the latest an agent's ages were measured).
   */
  static List<Snapshot> looks(
      int failedLoops,
      long observingMs,
      java.util.function.Function<String, NodeObservation> primary,
      long heardMs,
      Optional<NodeAgents.Reply<NodeAgents.Facts>> agent) {
    List<Snapshot> out = new java.util.ArrayList<>();
    out.add(DeciderTest.HEALTHY);
    for (int i = 1; i <= failedLoops; i++) {
      Map<String, NodeObservation> nodes = new LinkedHashMap<>();
      nodes.put("pg-a", primary.apply("pg-a"));
      nodes.put("pg-b", standbyHearingA("pg-b", 1000, heardMs));
      Instant at = Instant.EPOCH.plusSeconds(i);
      out.add(
          new Snapshot(
              at,
              at.plusMillis(observingMs),
              nodes,
              routesOn(ENI_A),
              agent.map(a -> Map.of("pg-b", a)).orElse(Map.of())));
    }
    return out;
  }

  record Row(
      String name, List<Snapshot> looks, Reason reason, List<String> actions, String sentence) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Arguments row(
      String name, List<Snapshot> looks, Reason reason, List<String> actions, String sentence) {
    return Arguments.of(new Row(name, looks, reason, actions, sentence));
  }

  static Stream<Arguments> rows() {
    return Stream.of(
        row(
            "two timeouts and the standby's host cannot reach it either: fail over now",
            looks(2, 2500, Optional.of(upstream(2600, Role.PRIMARY, 2, "timeout"))),
            Reason.FAILOVER,
            List.of("promote", "point_routes"),
            "promoting pg-b: primary pg-a failed 2 probes (timeout), pg-b's host cannot reach it"
                + " either (2 failed, timeout), lag 0 bytes"),
        row(
            "the same, though its WAL receiver still says it heard 1 s ago: fail over",
            looks(2, 1000, Optional.of(upstream(2600, Role.PRIMARY, 2, "timeout"))),
            Reason.FAILOVER,
            List.of("promote", "point_routes"),
            "promoting pg-b: primary pg-a failed 2 probes (timeout), pg-b's host cannot reach it"
                + " either (2 failed, timeout), lag 0 bytes"),
        row(
            "the standby's host failed too, but its WAL receiver heard from it 0.5 s ago, after the"
                + " controller's failures began (a lossy path): no agreement, the usual threshold",
            looks(2, 500, Optional.of(upstream(2600, Role.PRIMARY, 1, "timeout"))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (timeout)"),
        row(
            "the standby's host reached it 0.3 s ago: the controller's path is broken",
            looks(3, 300, Optional.of(upstream(300, Role.PRIMARY, 0, ""))),
            Reason.PRIMARY_ALIVE_PER_WITNESS,
            List.of("alarm"),
            "no failover: primary pg-a unreachable from the controller (timeout) but pg-b's host"
                + " reached it 0.3 s ago: the controller's path is broken"),
        row(
            "two timeouts; the standby's host has not reached it since before them, but a probe of"
                + " its that began 0.5 s ago was slow (the server sent bytes, too late to finish):"
                + " alive after the controller's failures began, so its failure since is no"
                + " agreement (a lossy path), the usual threshold",
            looks(2, 2500, Optional.of(upstream(2600, Role.PRIMARY, 500, 1, "timeout"))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (timeout)"),
        row(
            "the same, but that slow probe began 2.6 s ago, before the controller's failures began:"
                + " agreement",
            looks(2, 2500, Optional.of(upstream(3600, Role.PRIMARY, 2600, 1, "timeout"))),
            Reason.FAILOVER,
            List.of("promote", "point_routes"),
            "promoting pg-b: primary pg-a failed 2 probes (timeout), pg-b's host cannot reach it"
                + " either (1 failed, timeout), lag 0 bytes"),
        row(
            "its last reach is older than the controller's failures but it has not failed since:"
                + " no agreement yet, wait",
            looks(2, 2500, Optional.of(upstream(2600, Role.PRIMARY, 0, ""))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (timeout)"),
        row(
            "one probe that waited out its 1 s timeout, and the standby's host cannot reach it"
                + " either: one probe plus its agreement is two of three, wait",
            looks(1, 1000, pg -> downTimeout(pg), 1400, Optional.of(failing("timeout"))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 1/2 probes (timeout)"),
        row(
            "two refused probes a second apart, the standby's host refused too: fail over",
            looks(2, 5, DeciderTest::down, 2400, Optional.of(failing("refused"))),
            Reason.FAILOVER,
            List.of("promote", "point_routes"),
            "promoting pg-b: primary pg-a failed 2 probes (refused), pg-b's host cannot reach it"
                + " either (1 failed, refused), lag 0 bytes"),
        row(
            "three probes that waited out their timeouts; the standby's host reached it 1.5 s"
                + " before the end of observing, after the controller's first failed probe had"
                + " ended (2 s before it), although before the last loop began: the controller's"
                + " path is broken",
            looks(
                3,
                1000,
                pg -> downTimeout(pg),
                3500,
                Optional.of(upstream(1500, Role.PRIMARY, 1, "timeout"))),
            Reason.PRIMARY_ALIVE_PER_WITNESS,
            List.of("alarm"),
            "no failover: primary pg-a unreachable from the controller (timeout) but pg-b's host"
                + " reached it 1.5 s ago: the controller's path is broken"),
        row(
            "two probes that waited out their timeouts; the standby's host last reached it while"
                + " the first waited (the fault came during it, or the path lost that probe) and"
                + " has failed since: proves neither way, so neither a veto nor agreement: the"
                + " usual threshold",
            looks(
                2,
                1000,
                pg -> downTimeout(pg),
                3500,
                Optional.of(upstream(1500, Role.PRIMARY, 1, "timeout"))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (timeout)"),
        row(
            "three probes that waited out their timeouts; the standby's host last reached it while"
                + " the first waited and has failed since: proves neither way, and the usual"
                + " threshold is reached: the passive witness decides (the standby's WAL receiver"
                + " still streams, it last heard 3.5 s ago, within the 5 s window)",
            looks(
                3,
                1000,
                pg -> downTimeout(pg),
                3500,
                Optional.of(upstream(2500, Role.PRIMARY, 1, "timeout"))),
            Reason.PRIMARY_ALIVE_PER_WITNESS,
            List.of("alarm"),
            "no failover: primary pg-a unreachable from the controller (timeout) but standby pg-b"
                + " heard from it 3.5 s ago: the controller's path is broken"),
        row(
            "two probes that waited out their timeouts; the standby, probed again at the end of"
                + " the second, says its WAL receiver heard from the primary 1.5 s before that end,"
                + " after the controller's first failed probe began: alive then, no agreement, the"
                + " usual threshold",
            looks(
                2,
                1000,
                pg -> downTimeout(pg),
                1500,
                Optional.of(upstream(2600, Role.PRIMARY, 2, "timeout"))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (timeout)"),
        row(
            "three refused probes a second apart; the standby's host reached it 2 ms after the"
                + " first failed (within the moment a live primary takes to answer: it may have"
                + " died just after) and has failed since: no veto (a probe that failed at once"
                + " counts as if it had waited its timeout), and agreement",
            looks(
                3,
                5,
                DeciderTest::down,
                9000,
                Optional.of(upstream(1998, Role.PRIMARY, 2, "refused"))),
            Reason.FAILOVER,
            List.of("promote", "point_routes"),
            "promoting pg-b: primary pg-a failed 3 probes (refused), pg-b's host cannot reach it"
                + " either (2 failed, refused), lag 0 bytes"),
        row(
            "two refused probes a second apart; the standby's host reached it 150 ms after the"
                + " first began, more than a live primary takes to answer, and has failed since:"
                + " alive after the controller's first failure, so no agreement",
            looks(
                2,
                5,
                DeciderTest::down,
                9000,
                Optional.of(upstream(855, Role.PRIMARY, 1, "refused"))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (refused)"),
        row(
            "three refused probes a second apart; the standby's host reached it just now, more"
                + " than a timeout after the first began: the controller's path is broken",
            looks(3, 5, DeciderTest::down, 2400, Optional.of(upstream(3, Role.PRIMARY, 0, ""))),
            Reason.PRIMARY_ALIVE_PER_WITNESS,
            List.of("alarm"),
            "no failover: primary pg-a unreachable from the controller (refused) but pg-b's host"
                + " reached it 0.0 s ago: the controller's path is broken"),
        row(
            "no agent: two timeouts are not enough",
            looks(2, 2500, Optional.empty()),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (timeout)"),
        row(
            "an agent that does not answer: as without one",
            looks(2, 2500, Optional.of(NodeAgents.Reply.failed("connection refused"))),
            Reason.PRIMARY_SUSPECT,
            List.of(),
            "waiting: primary pg-a failed 2/3 probes (timeout)"));
  }

  /** pg-b's host last reached pg-a 1.2 s before the end of observing, and failed once since. */
  static NodeAgents.Reply<NodeAgents.Facts> failing(String kind) {
    return upstream(1200, Role.PRIMARY, 1, kind);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void decides(Row row) {
    History h = History.empty();
    for (Snapshot s : row.looks()) {
      h = h.next(s);
    }
    Snapshot last = row.looks().get(row.looks().size() - 1);
    Decision d = new Decider(DeciderTest.DEFAULTS).decide(last, h);
    assertEquals(row.reason(), d.reason(), d.message());
    assertEquals(row.actions(), d.actions().stream().map(Action::name).toList(), d.message());
    assertEquals(row.sentence(), d.message());
  }

  @org.junit.jupiter.api.Test
  void whenTheStandbysHostAgreesTheRecheckTakesATenthOfTheProbeTimeout() {
    List<Snapshot> s = looks(2, 2500, Optional.of(upstream(2600, Role.PRIMARY, 2, "timeout")));
    History h = History.empty();
    for (Snapshot x : s) {
      h = h.next(x);
    }
    Action.Promote p =
        (Action.Promote) new Decider(DeciderTest.DEFAULTS).decide(s.get(2), h).actions().get(0);
    assertEquals(Optional.of("pg-a"), p.abortIfPrimary());
    assertEquals(Duration.ofMillis(100), p.recheckWithin());
  }
}
