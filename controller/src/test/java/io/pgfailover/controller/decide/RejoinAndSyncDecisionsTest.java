package io.pgfailover.controller.decide;

import static io.pgfailover.controller.decide.DeciderTest.ENI_A;
import static io.pgfailover.controller.decide.DeciderTest.ENI_B;
import static io.pgfailover.controller.decide.DeciderTest.down;
import static io.pgfailover.controller.decide.DeciderTest.routesOn;
import static io.pgfailover.controller.decide.DeciderTest.standbyHearingA;
import static io.pgfailover.controller.decide.DeciderTest.standbyNotStreaming;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.probe.Lsn;
import io.pgfailover.probe.Replica;
import io.pgfailover.probe.Role;
import java.time.Instant;
import java.util.ArrayList;
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
 * The decisions that steer a cluster back to two nodes streaming (RejoinRules) and keep synchronous
 * replication as configured (SyncRules): each row a sequence of snapshots taken one second apart,
 * the decision on the last, its actions and its sentence.
 */
class RejoinAndSyncDecisionsTest {
  static final String AGENTS =
      """
      cluster: orders-db
      aws: {region: eu-west-1}
      virtualIp: 172.31.255.10/32
      routeTables: [rtb-0111111111111111a, rtb-0222222222222222b]
      nodes:
        - {name: pg-a, instanceId: i-0aaaaaaaaaaaaaaaa, eniId: eni-0aaaaaaaaaaaaaaaa, host: 10.0.1.10, user: pgfailover,
           agent: {url: "http://10.0.1.10:8009", tokenFile: /etc/pgfailover/agent-token}}
        - {name: pg-b, instanceId: i-0bbbbbbbbbbbbbbbb, eniId: eni-0bbbbbbbbbbbbbbbb, host: 10.0.2.10, user: pgfailover,
           agent: {url: "http://10.0.2.10:8009", tokenFile: /etc/pgfailover/agent-token}}
      probe: {interval: 1s, timeout: 1s, failureThreshold: 3}
      """;

  static ControllerConfig config(String extra) {
    try {
      return ConfigLoader.parse(AGENTS + extra, "agents.yaml");
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  static final ControllerConfig AUTOMATIC = config("");
  static final ControllerConfig MANUAL = config("rejoin: manual\n");
  static final ControllerConfig SYNC = config("replication: {mode: sync}\n");
  static final ControllerConfig STRICT = config("replication: {mode: sync, strict: true}\n");

  // ---- builders

  /** pg-b promoted to timeline 2, every route on it. */
  static NodeObservation newPrimaryB(String syncNames, Replica... replicas) {
    return new NodeObservation(
        "pg-b",
        true,
        Optional.empty(),
        Role.PRIMARY,
        OptionalLong.of(2),
        OptionalLong.of(5000),
        Optional.empty(),
        Optional.of(true),
        false,
        syncNames,
        List.of(replicas));
  }

  static NodeObservation primaryA(String syncNames, Replica... replicas) {
    return new NodeObservation(
        "pg-a",
        true,
        Optional.empty(),
        Role.PRIMARY,
        OptionalLong.of(1),
        OptionalLong.of(1000),
        Optional.empty(),
        Optional.of(true),
        false,
        syncNames,
        List.of(replicas));
  }

  static NodeObservation oldPrimaryA() {
    return new NodeObservation(
        "pg-a",
        true,
        Optional.empty(),
        Role.PRIMARY,
        OptionalLong.of(1),
        OptionalLong.of(1200),
        Optional.empty(),
        Optional.of(true),
        false,
        "",
        List.of());
  }

  /** A standby cloned from a synchronous primary carries its setting. */
  static NodeObservation withSynchronousNames(NodeObservation o, String names) {
    return new NodeObservation(
        o.node(),
        o.reachable(),
        o.failure(),
        o.role(),
        o.timeline(),
        o.walPosition(),
        o.witness(),
        o.writable(),
        o.writesStopped(),
        names,
        o.replicas());
  }

  static Replica streaming(String name, long flush, String syncState) {
    return new Replica(name, "streaming", syncState, Optional.of(new Lsn(flush)));
  }

  static NodeAgents.Reply<NodeAgents.Facts> facts(
      String node, boolean running, RejoinPhase phase, Optional<String> error) {
    NodeAgents.Rejoin rejoin =
        phase == RejoinPhase.IDLE
            ? NodeAgents.Rejoin.idle()
            : new NodeAgents.Rejoin(
                phase,
                Optional.of("10.0.2.10:5432"),
                OptionalLong.of(2),
                Optional.empty(),
                Optional.of(Instant.EPOCH),
                Optional.empty(),
                NodeAgents.Method.REWIND,
                List.of(),
                error);
    return NodeAgents.Reply.of(
        new NodeAgents.Facts(
            node,
            running,
            OptionalLong.empty(),
            "15.18",
            "/var/lib/pgsql/data",
            0,
            0,
            false,
            Optional.empty(),
            Optional.empty(),
            running ? Role.STANDBY : Role.PRIMARY,
            OptionalLong.of(1),
            List.of(),
            rejoin,
            Optional.empty()));
  }

  static NodeAgents.Reply<NodeAgents.Facts> idle(String node, boolean running) {
    return facts(node, running, RejoinPhase.IDLE, Optional.empty());
  }

  record Look(
      List<VirtualIpRoute> routes,
      List<NodeObservation> nodes,
      Map<String, NodeAgents.Reply<NodeAgents.Facts>> agents) {}

  static Look look(
      List<VirtualIpRoute> routes,
      Map<String, NodeAgents.Reply<NodeAgents.Facts>> agents,
      NodeObservation... nodes) {
    return new Look(routes, List.of(nodes), agents);
  }

  static final Map<String, NodeAgents.Reply<NodeAgents.Facts>> BOTH_IDLE =
      Map.of("pg-a", idle("pg-a", true), "pg-b", idle("pg-b", true));

  record Row(
      String name,
      ControllerConfig config,
      List<Look> looks,
      Optional<Request> request,
      Reason reason,
      List<Action> actions,
      String sentence) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Arguments row(
      String name,
      ControllerConfig config,
      List<Look> looks,
      Reason reason,
      List<Action> actions,
      String sentence) {
    return Arguments.of(new Row(name, config, looks, Optional.empty(), reason, actions, sentence));
  }

  static List<Look> repeat(int n, Look look) {
    List<Look> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(look);
    }
    return out;
  }

  static List<Look> seq(List<Look> a, List<Look> b) {
    List<Look> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  static final Action.Rejoin REJOIN_A = new Action.Rejoin("pg-a", "10.0.2.10:5432", 2);

  static Stream<Arguments> rows() {
    Look healthyAfterFailover =
        look(routesOn(ENI_B), BOTH_IDLE, newPrimaryB(""), standbyNotStreaming("pg-a", 2, 4000));
    return Stream.of(
        row(
            "old primary back writable beside the new one: rejoined, not fenced",
            AUTOMATIC,
            List.of(look(routesOn(ENI_B), BOTH_IDLE, newPrimaryB(""), oldPrimaryA())),
            Reason.TWO_PRIMARIES,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.TWO_PRIMARIES,
                    "old primary pg-a is up on timeline 1 beside pg-b on 2: it needs re-joining as"
                        + " a standby"),
                REJOIN_A),
            "primary pg-b (timeline 2); old primary pg-a is up on older timeline 1; rejoining pg-a"
                + " (is an old primary on timeline 1) as a standby of pg-b"),
        row(
            "old primary down, its agent says PostgreSQL is stopped: rejoined",
            AUTOMATIC,
            repeat(
                3,
                look(
                    routesOn(ENI_B),
                    Map.of("pg-a", idle("pg-a", false), "pg-b", idle("pg-b", true)),
                    newPrimaryB(""),
                    down("pg-a"))),
            Reason.REJOIN,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.STANDBY_DOWN,
                    "standby pg-a is down (refused): no failover target until it is back"),
                REJOIN_A),
            "primary pg-b (timeline 2); standby pg-a down; rejoining pg-a (is down) as a standby"
                + " of pg-b"),
        row(
            "down by SQL but its postmaster runs (starting up): left to start",
            AUTOMATIC,
            repeat(
                3,
                look(
                    routesOn(ENI_B),
                    Map.of("pg-a", idle("pg-a", true), "pg-b", idle("pg-b", true)),
                    newPrimaryB(""),
                    down("pg-a"))),
            Reason.HEALTHY,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.STANDBY_DOWN,
                    "standby pg-a is down (refused): no failover target until it is back")),
            "no action: route on pg-b, primary healthy; standby pg-a down"),
        row(
            "its agent does not answer: no rejoin, an alarm",
            AUTOMATIC,
            repeat(
                3,
                look(
                    routesOn(ENI_B),
                    Map.of(
                        "pg-a",
                        NodeAgents.Reply.failed("connection refused"),
                        "pg-b",
                        idle("pg-b", true)),
                    newPrimaryB(""),
                    down("pg-a"))),
            Reason.HEALTHY,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.STANDBY_DOWN,
                    "standby pg-a is down (refused): no failover target until it is back"),
                new Action.Alarm(
                    Action.AlarmKind.AGENT_UNREACHABLE,
                    "node pg-a is down but its agent does not answer (connection refused): it"
                        + " cannot be rejoined. Check failoverctl agent on its host (systemctl"
                        + " status pgfailover-agent)")),
            "no action: route on pg-b, primary healthy; standby pg-a down; pg-a is down, its agent"
                + " does not answer"),
        row(
            "a rejoin runs: followed, not asked again",
            AUTOMATIC,
            List.of(
                look(
                    routesOn(ENI_B),
                    Map.of(
                        "pg-a",
                        facts("pg-a", false, RejoinPhase.REWINDING, Optional.empty()),
                        "pg-b",
                        idle("pg-b", true)),
                    newPrimaryB(""),
                    oldPrimaryA())),
            Reason.TWO_PRIMARIES,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.TWO_PRIMARIES,
                    "old primary pg-a is up on timeline 1 beside pg-b on 2: it needs re-joining as"
                        + " a standby")),
            "primary pg-b (timeline 2); old primary pg-a is up on older timeline 1; pg-a rejoining"
                + " (rewinding)"),
        row(
            "the same rejoin failed: alarmed, not retried",
            AUTOMATIC,
            repeat(
                3,
                look(
                    routesOn(ENI_B),
                    Map.of(
                        "pg-a",
                        facts("pg-a", false, RejoinPhase.FAILED, Optional.of("pg_rewind failed")),
                        "pg-b",
                        idle("pg-b", true)),
                    newPrimaryB(""),
                    down("pg-a"))),
            Reason.HEALTHY,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.STANDBY_DOWN,
                    "standby pg-a is down (refused): no failover target until it is back"),
                new Action.Alarm(
                    Action.AlarmKind.REJOIN_FAILED,
                    "rejoining pg-a to pg-b failed: pg_rewind failed. The node is left stopped; fix"
                        + " the cause, then failoverctl rejoin pg-a")),
            "no action: route on pg-b, primary healthy; standby pg-a down; pg-a is down, its"
                + " rejoin failed"),
        row(
            "rejoin: manual: an alarm with the command",
            MANUAL,
            List.of(look(routesOn(ENI_B), BOTH_IDLE, newPrimaryB(""), oldPrimaryA())),
            Reason.TWO_PRIMARIES,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.TWO_PRIMARIES,
                    "old primary pg-a is up on timeline 1 beside pg-b on 2: it needs re-joining as"
                        + " a standby"),
                new Action.Alarm(
                    Action.AlarmKind.REJOIN_NEEDED,
                    "node pg-a is an old primary on timeline 1: run failoverctl rejoin pg-a to"
                        + " bring it back as a standby of pg-b (rejoin: manual)")),
            "primary pg-b (timeline 2); old primary pg-a is up on older timeline 1; pg-a is an old"
                + " primary on timeline 1, to rejoin by hand"),
        row(
            "routes not yet on the new primary: repoint first, no rejoin",
            AUTOMATIC,
            List.of(look(routesOn(ENI_A), BOTH_IDLE, newPrimaryB(""), oldPrimaryA())),
            Reason.TWO_PRIMARIES,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.TWO_PRIMARIES,
                    "old primary pg-a is up on timeline 1 beside pg-b on 2: it needs re-joining as"
                        + " a standby"),
                new Action.PointRoutes(
                    "pg-b", ENI_B, List.of("rtb-0111111111111111a", "rtb-0222222222222222b"))),
            "primary pg-b (timeline 2); old primary pg-a is up on older timeline 1; repointing 2"
                + " route table(s) (rtb-0111111111111111a on pg-a, rtb-0222222222222222b on pg-a)"
                + " to pg-b"),
        row(
            "a standby that has not streamed for 30 s: rejoined",
            AUTOMATIC,
            repeat(31, healthyAfterFailover),
            Reason.REJOIN,
            List.of(REJOIN_A),
            "primary pg-b (timeline 2); rejoining pg-a (has not streamed for 30 s) as a standby of"
                + " pg-b"),
        row(
            "a standby that has not streamed for 29 s: left to reconnect",
            AUTOMATIC,
            repeat(30, healthyAfterFailover),
            Reason.HEALTHY,
            List.of(),
            "no action: route on pg-b, primary healthy"),
        row(
            "sync: the caught-up streaming standby becomes synchronous",
            SYNC,
            List.of(
                look(
                    routesOn(ENI_A),
                    BOTH_IDLE,
                    primaryA("", streaming("pg-b", 1000, "async")),
                    standbyHearingA("pg-b", 1000, 100))),
            Reason.SYNCHRONOUS_STANDBYS,
            List.of(new Action.SetSynchronousStandbys("pg-a", "\"pg-b\"")),
            "primary pg-a (timeline 1); synchronous standby \"pg-b\""),
        row(
            "sync: already so: nothing",
            SYNC,
            List.of(
                look(
                    routesOn(ENI_A),
                    BOTH_IDLE,
                    primaryA("\"pg-b\"", streaming("pg-b", 1000, "sync")),
                    standbyHearingA("pg-b", 1000, 100))),
            Reason.HEALTHY,
            List.of(),
            "no action: route on pg-a, primary healthy"),
        row(
            "sync: the standby gone: writes no longer wait for it",
            SYNC,
            List.of(
                look(
                    routesOn(ENI_A),
                    BOTH_IDLE,
                    primaryA("\"pg-b\""),
                    standbyNotStreaming("pg-b", 1, 1000))),
            Reason.SYNCHRONOUS_STANDBYS,
            List.of(new Action.SetSynchronousStandbys("pg-a", "")),
            "primary pg-a (timeline 1); no standby streams and has caught up: writes no longer"
                + " wait for one"),
        row(
            "strict: the standby gone: the setting stays, writes wait",
            STRICT,
            List.of(
                look(
                    routesOn(ENI_A),
                    BOTH_IDLE,
                    primaryA("\"pg-b\""),
                    standbyNotStreaming("pg-b", 1, 1000))),
            Reason.HEALTHY,
            List.of(),
            "no action: route on pg-a, primary healthy"),
        row(
            "sync: the primary fails and the standby was synchronous: promoted, its setting"
                + " cleared before the routes",
            SYNC,
            seq(
                List.of(
                    look(
                        routesOn(ENI_A),
                        BOTH_IDLE,
                        primaryA("\"pg-b\"", streaming("pg-b", 1000, "sync")),
                        standbyHearingA("pg-b", 1000, 100))),
                repeat(
                    3,
                    look(
                        routesOn(ENI_A),
                        BOTH_IDLE,
                        down("pg-a"),
                        withSynchronousNames(standbyNotStreaming("pg-b", 1, 1000), "\"pg-b\"")))),
            Reason.FAILOVER,
            List.of(
                new Action.Promote("pg-b", Optional.of("pg-a"), java.time.Duration.ofSeconds(1)),
                new Action.SetSynchronousStandbys("pg-b", ""),
                new Action.PointRoutes(
                    "pg-b", ENI_B, List.of("rtb-0111111111111111a", "rtb-0222222222222222b"))),
            "promoting pg-b: primary pg-a failed 3 probes (refused), standby pg-b is not streaming"
                + " from it, lag 0 bytes"),
        row(
            "sync: the primary fails and the standby was not synchronous: no promotion",
            SYNC,
            seq(
                List.of(
                    look(
                        routesOn(ENI_A),
                        BOTH_IDLE,
                        primaryA("", streaming("pg-b", 1000, "async")),
                        standbyHearingA("pg-b", 1000, 100))),
                repeat(
                    3,
                    look(
                        routesOn(ENI_A),
                        BOTH_IDLE,
                        down("pg-a"),
                        standbyNotStreaming("pg-b", 1, 1000)))),
            Reason.NO_SYNCHRONOUS_CANDIDATE,
            List.of(
                new Action.Alarm(
                    Action.AlarmKind.NO_SYNCHRONOUS_CANDIDATE,
                    "primary pg-a failed but standby pg-b was not synchronous when it was last seen"
                        + " healthy (no standby was): promoting it could lose acknowledged writes;"
                        + " not promoting automatically; an operator may run failover --force")),
            "primary pg-a failed but standby pg-b was not synchronous when it was last seen"
                + " healthy (no standby was): promoting it could lose acknowledged writes; not"
                + " promoting automatically; an operator may run failover --force"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("rows")
  void decides(Row row) {
    History history = History.empty();
    Snapshot last = null;
    for (int i = 0; i < row.looks().size(); i++) {
      Look l = row.looks().get(i);
      Map<String, NodeObservation> nodes = new LinkedHashMap<>();
      l.nodes().forEach(o -> nodes.put(o.node(), o));
      last = new Snapshot(Instant.EPOCH.plusSeconds(i), nodes, l.routes(), l.agents());
      history = history.next(last);
    }
    Decider decider = new Decider(row.config());
    Decision d =
        row.request().isPresent()
            ? decider.decide(last, history, row.request().get())
            : decider.decide(last, history);
    assertEquals(row.reason(), d.reason(), d.message());
    assertEquals(row.actions(), d.actions(), d.message());
    assertEquals(row.sentence(), d.message());
  }
}
