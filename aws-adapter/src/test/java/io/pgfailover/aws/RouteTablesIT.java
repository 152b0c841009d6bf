package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.aws.RouteSwitchResult.Outcome;
import io.pgfailover.aws.RouteSwitchResult.TableResult;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.VpcFixture;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.ReplaceRouteRequest;
import software.amazon.awssdk.services.ec2.model.Route;

class RouteTablesIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  private final FaultInjector faults = new FaultInjector();
  private AwsClients clients;

  @AfterEach
  void close() {
    if (clients != null) {
      clients.close();
    }
  }

  private RouteTables routeTables() {
    clients = Emulated.clients(aws, faults);
    return new RouteTables(clients);
  }

  @Test
  void replacesTheRouteInEveryTable() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    RouteTarget standby = RouteTarget.networkInterface(vpc.standby().eniId());

    RouteSwitchResult result =
        routeTables().pointRoute(vpc.vipCidr(), vpc.routeTableIds(), standby, false);

    assertTrue(result.allOk(), result::summary);
    for (TableResult table : result.tables()) {
      assertEquals(Outcome.REPLACED, table.outcome());
      assertEquals(
          Optional.of(RouteTarget.networkInterface(vpc.primary().eniId())), table.before());
      assertEquals(Optional.of(standby), table.after());
    }
    assertEquals(
        vpc.routeTableIds(), result.tables().stream().map(TableResult::routeTableId).toList());
    assertEquals(2, faults.sent("ReplaceRoute"));
    assertEquals(4, result.apiCalls(), "read, two replaces, read back");
    assertEveryTableOn(vpc, vpc.standby().eniId());
  }

  @Test
  void pointsAtAnInstanceTarget() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    RouteTarget standby = RouteTarget.instance(vpc.standby().instanceId());

    RouteSwitchResult result =
        routeTables().pointRoute(vpc.vipCidr(), vpc.routeTableIds(), standby, false);

    assertTrue(result.allOk(), result::summary);
    assertEquals(List.of(Outcome.REPLACED, Outcome.REPLACED), outcomes(result));
    for (String table : vpc.routeTableIds()) {
      assertEquals(vpc.standby().instanceId(), vipRoute(vpc, table).orElseThrow().instanceId());
    }
  }

  @Test
  void writesNothingWhenEveryTableIsAlreadyOnTheTarget() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(3).create();

    RouteSwitchResult result =
        routeTables()
            .pointRoute(
                vpc.vipCidr(),
                vpc.routeTableIds(),
                RouteTarget.networkInterface(vpc.primary().eniId()),
                true);

    assertTrue(result.allOk(), result::summary);
    assertEquals(
        List.of(Outcome.UNCHANGED, Outcome.UNCHANGED, Outcome.UNCHANGED), outcomes(result));
    assertEquals(0, faults.sentMutating(), "no write for tables already on the target");
    assertEquals(2, result.apiCalls(), "one read, one read back");
  }

  @Test
  void writesOnlyTheTablesThatAreOff() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(3).create();
    String already = vpc.routeTableIds().get(1);
    aws.ec2Client()
        .replaceRoute(
            r ->
                r.routeTableId(already)
                    .destinationCidrBlock(vpc.vipCidr())
                    .networkInterfaceId(vpc.standby().eniId()));

    RouteSwitchResult result =
        routeTables()
            .pointRoute(
                vpc.vipCidr(),
                vpc.routeTableIds(),
                RouteTarget.networkInterface(vpc.standby().eniId()),
                false);

    assertEquals(List.of(Outcome.REPLACED, Outcome.UNCHANGED, Outcome.REPLACED), outcomes(result));
    assertEquals(2, faults.sent("ReplaceRoute"));
    assertEquals(0, faults.sent("CreateRoute"));
  }

  @Test
  void createsTheMissingRouteWhenAllowed() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).vipRoute(false).create();
    RouteTarget primary = RouteTarget.networkInterface(vpc.primary().eniId());

    RouteSwitchResult result =
        routeTables().pointRoute(vpc.vipCidr(), vpc.routeTableIds(), primary, true);

    assertTrue(result.allOk(), result::summary);
    for (TableResult table : result.tables()) {
      assertEquals(Outcome.CREATED, table.outcome());
      assertEquals(Optional.empty(), table.before());
      assertEquals(Optional.of(primary), table.after());
    }
    assertEquals(2, faults.sent("CreateRoute"));
    assertEquals(0, faults.sent("ReplaceRoute"));
    for (String table : vpc.routeTableIds()) {
      assertEquals(vpc.primary().eniId(), vipRoute(vpc, table).orElseThrow().networkInterfaceId());
    }
  }

  @Test
  void refusesToCreateTheRouteWhenNotAllowedAndNamesTheTable() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).vipRoute(false).create();
    String table = vpc.routeTableIds().get(0);

    RouteSwitchResult result =
        routeTables()
            .pointRoute(
                vpc.vipCidr(),
                List.of(table),
                RouteTarget.networkInterface(vpc.primary().eniId()),
                false);

    assertFalse(result.allOk());
    TableResult only = result.tables().get(0);
    assertEquals(Outcome.FAILED, only.outcome());
    String reason = only.reason().orElseThrow();
    assertTrue(reason.contains(table), reason);
    assertTrue(reason.contains("aws ec2 create-route --route-table-id " + table), reason);
    assertTrue(reason.contains("allow creating"), reason);
    assertEquals(0, faults.sentMutating());
    assertTrue(vipRoute(vpc, table).isEmpty(), "nothing created");
  }

  @Test
  void repairsARouteDeletedBetweenWriteAndReadBack() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String lost = vpc.routeTableIds().get(0);
    Ec2Client otherWriter = aws.ec2Client();
    faults.afterSuccess(
        "ReplaceRoute",
        r -> ((ReplaceRouteRequest) r).routeTableId().equals(lost),
        () ->
            otherWriter.deleteRoute(d -> d.routeTableId(lost).destinationCidrBlock(vpc.vipCidr())));
    RouteTarget standby = RouteTarget.networkInterface(vpc.standby().eniId());

    // creating is not allowed, yet re-creating a route that existed when the switch began is a
    // repair
    RouteSwitchResult result =
        routeTables().pointRoute(vpc.vipCidr(), vpc.routeTableIds(), standby, false);

    assertTrue(result.allOk(), result::summary);
    assertEquals(List.of(Outcome.REPAIRED, Outcome.REPLACED), outcomes(result));
    assertEquals(Optional.of(standby), result.tables().get(0).after());
    assertEquals(1, faults.sent("CreateRoute"), "the repair re-created the route");
    assertEquals(6, result.apiCalls(), "read, 2 replaces, read back, 1 repair, read back");
    assertEquals(vpc.standby().eniId(), vipRoute(vpc, lost).orElseThrow().networkInterfaceId());
  }

  @Test
  void repairsARouteAnotherWriterMovedBack() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String reverted = vpc.routeTableIds().get(1);
    faults.afterSuccess(
        "ReplaceRoute",
        r -> ((ReplaceRouteRequest) r).routeTableId().equals(reverted),
        () ->
            aws.ec2Client()
                .replaceRoute(
                    x ->
                        x.routeTableId(reverted)
                            .destinationCidrBlock(vpc.vipCidr())
                            .networkInterfaceId(vpc.primary().eniId())));

    RouteSwitchResult result =
        routeTables()
            .pointRoute(
                vpc.vipCidr(),
                vpc.routeTableIds(),
                RouteTarget.networkInterface(vpc.standby().eniId()),
                false);

    assertEquals(List.of(Outcome.REPLACED, Outcome.REPAIRED), outcomes(result));
    assertEquals(3, faults.sent("ReplaceRoute"));
    assertEquals(vpc.standby().eniId(), vipRoute(vpc, reverted).orElseThrow().networkInterfaceId());
  }

  @Test
  void reportsEachTableOnItsOwn() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String missing = "rtb-0123456789abcdef0";
    List<String> tables = List.of(vpc.routeTableIds().get(0), missing, vpc.routeTableIds().get(1));

    RouteSwitchResult result =
        routeTables()
            .pointRoute(
                vpc.vipCidr(), tables, RouteTarget.networkInterface(vpc.standby().eniId()), false);

    assertFalse(result.allOk());
    assertEquals(tables, result.tables().stream().map(TableResult::routeTableId).toList());
    assertEquals(List.of(Outcome.REPLACED, Outcome.FAILED, Outcome.REPLACED), outcomes(result));
    String reason = result.table(missing).orElseThrow().reason().orElseThrow();
    assertTrue(reason.contains(missing) && reason.contains("not found"), reason);
    assertEquals(2, faults.sent("ReplaceRoute"));
  }

  @Test
  void switchesTenTablesConcurrently() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(10).create();
    // Every ReplaceRoute waits here until all ten are in flight: a serial switch could never
    // release it.
    CountDownLatch allInFlight = new CountDownLatch(10);
    AtomicBoolean released = new AtomicBoolean(true);
    faults.beforeSending(
        operation -> {
          if (operation.equals("ReplaceRoute")) {
            allInFlight.countDown();
            try {
              if (!allInFlight.await(10, TimeUnit.SECONDS)) {
                released.set(false);
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              released.set(false);
            }
          }
        });
    RouteTarget standby = RouteTarget.networkInterface(vpc.standby().eniId());
    clients =
        Emulated.clients(
            aws,
            faults,
            s ->
                s.withTimeouts(java.time.Duration.ofSeconds(15), java.time.Duration.ofSeconds(15))
                    .withRetryDeadline(java.time.Duration.ofSeconds(15)));
    RouteTables routeTables = new RouteTables(clients);

    RouteSwitchResult result =
        routeTables.pointRoute(vpc.vipCidr(), vpc.routeTableIds(), standby, false);

    assertTrue(released.get(), "the ten ReplaceRoute calls were not in flight together");
    assertTrue(result.allOk(), result::summary);
    assertEquals(10, result.counts().get(Outcome.REPLACED));
    assertEquals(10, faults.sent("ReplaceRoute"));
    assertEquals(2, faults.sent("DescribeRouteTables"), "one read for all tables, one read back");
    assertEquals(12, result.apiCalls());

    Map<String, RouteState> now = routeTables.readRoutes(vpc.vipCidr(), vpc.routeTableIds());
    assertEquals(3, faults.sent("DescribeRouteTables"), "readRoutes is one call for ten tables");
    now.values().forEach(state -> assertTrue(state.pointsAt(standby), state.toString()));
  }

  @Test
  void switchesFourTablesFromWhatWasSeenWithOneReadBack() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(4).create();
    RouteTables routeTables = routeTables();
    Map<String, RouteState> seen = routeTables.readRoutes(vpc.vipCidr(), vpc.routeTableIds());
    RouteTarget standby = RouteTarget.networkInterface(vpc.standby().eniId());

    RouteSwitchResult result =
        routeTables.pointRoute(vpc.vipCidr(), vpc.routeTableIds(), standby, false, seen);

    assertTrue(result.allOk(), result::summary);
    for (TableResult table : result.tables()) {
      assertEquals(Outcome.REPLACED, table.outcome());
      assertEquals(
          Optional.of(RouteTarget.networkInterface(vpc.primary().eniId())), table.before());
      assertEquals(Optional.of(standby), table.after());
    }
    assertEquals(4, faults.sent("ReplaceRoute"));
    assertEquals(2, faults.sent("DescribeRouteTables"), "the read that was seen, one read back");
    assertEquals(5, result.apiCalls(), "four replaces, one read back");
    assertEveryTableOn(vpc, vpc.standby().eniId());
  }

  @Test
  void aTableMovedAwaySinceItWasSeenIsRepaired() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String moved = vpc.routeTableIds().get(0);
    RouteTables routeTables = routeTables();
    pointDirectly(vpc, moved, vpc.standby().eniId());
    Map<String, RouteState> seen = routeTables.readRoutes(vpc.vipCidr(), vpc.routeTableIds());
    pointDirectly(vpc, moved, vpc.primary().eniId()); // another writer, after the read
    RouteTarget standby = RouteTarget.networkInterface(vpc.standby().eniId());

    RouteSwitchResult result =
        routeTables.pointRoute(vpc.vipCidr(), vpc.routeTableIds(), standby, false, seen);

    assertTrue(result.allOk(), result::summary);
    assertEquals(List.of(Outcome.REPAIRED, Outcome.REPLACED), outcomes(result));
    assertEquals(2, faults.sent("ReplaceRoute"), "the table seen off, then the repair");
    assertEquals(4, result.apiCalls(), "one replace, read back, one repair, read back");
    assertEveryTableOn(vpc, vpc.standby().eniId());
  }

  @Test
  void aTableSeenWithoutItsRouteIsReadFirst() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).vipRoute(false).create();
    RouteTables routeTables = routeTables();
    Map<String, RouteState> seen = routeTables.readRoutes(vpc.vipCidr(), vpc.routeTableIds());
    RouteTarget primary = RouteTarget.networkInterface(vpc.primary().eniId());

    RouteSwitchResult result =
        routeTables.pointRoute(vpc.vipCidr(), vpc.routeTableIds(), primary, true, seen);

    assertTrue(result.allOk(), result::summary);
    assertEquals(List.of(Outcome.CREATED, Outcome.CREATED), outcomes(result));
    assertEquals(3, faults.sent("DescribeRouteTables"), "seen, read first, read back");
    assertEquals(4, result.apiCalls(), "read, two creates, read back");
  }

  @Test
  void readRoutesSaysWhatEachTablePointsAt() {
    VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).create();
    String withRoute = vpc.routeTableIds().get(0);
    String withoutRoute = vpc.routeTableIds().get(1);
    String missing = "rtb-0123456789abcdef0";
    aws.ec2Client()
        .deleteRoute(r -> r.routeTableId(withoutRoute).destinationCidrBlock(vpc.vipCidr()));

    Map<String, RouteState> states =
        routeTables().readRoutes(vpc.vipCidr(), List.of(withRoute, withoutRoute, missing));

    assertEquals(List.of(withRoute, withoutRoute, missing), new ArrayList<>(states.keySet()));
    RouteState active = states.get(withRoute);
    assertEquals(RouteState.Status.ACTIVE, active.status());
    assertEquals(Optional.of(RouteTarget.networkInterface(vpc.primary().eniId())), active.target());
    assertEquals(RouteState.Status.ABSENT, states.get(withoutRoute).status());
    assertEquals(RouteState.Status.TABLE_MISSING, states.get(missing).status());
    assertEquals(1, faults.sent("DescribeRouteTables"));
  }

  private static void assertEveryTableOn(VpcFixture vpc, String eni) {
    for (String table : vpc.routeTableIds()) {
      assertEquals(eni, vipRoute(vpc, table).orElseThrow().networkInterfaceId(), table);
    }
  }

  private static void pointDirectly(VpcFixture vpc, String table, String eni) {
    aws.ec2Client()
        .replaceRoute(
            r -> r.routeTableId(table).destinationCidrBlock(vpc.vipCidr()).networkInterfaceId(eni));
  }

  private static List<Outcome> outcomes(RouteSwitchResult result) {
    return result.tables().stream().map(TableResult::outcome).toList();
  }

  private static Optional<Route> vipRoute(VpcFixture vpc, String table) {
    return aws
        .ec2Client()
        .describeRouteTables(r -> r.routeTableIds(table))
        .routeTables()
        .get(0)
        .routes()
        .stream()
        .filter(route -> vpc.vipCidr().equals(route.destinationCidrBlock()))
        .findFirst();
  }
}
