package io.pgfailover.aws;

import io.pgfailover.aws.RouteSwitchResult.Outcome;
import io.pgfailover.aws.RouteSwitchResult.TableResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * The virtual-IP route in the VPC route tables: read where it points, and point it at a new
 * primary.
 *
 * <p>Contract for the controller: {@link #readRoutes} is one DescribeRouteTables call and throws
 * {@link AwsCallException} when it cannot read. {@link #pointRoute} never throws for AWS failures:
 * it returns a result per table, and is idempotent (a table already on the target, as read or as
 * seen by the caller, is not written), so calling it again after a partial failure converges. Each
 * table's write is atomic in EC2; the switch across tables is not, and the result says which tables
 * moved.
 */
public final class RouteTables {
  private static final Logger log = LoggerFactory.getLogger(RouteTables.class);

  private final AwsClients clients;
  private final Clock clock;

  public RouteTables(AwsClients clients) {
    this.clients = Objects.requireNonNull(clients, "clients");
    this.clock = clients.clock();
  }

  /**
   * Where each table's virtual-IP route points now, in the given order (a missing table is {@link
   * RouteState.Status#TABLE_MISSING}, not an error).
   *
   * @throws AwsCallException when the tables cannot be read (after retrying what can be retried)
   */
  public Map<String, RouteState> readRoutes(String vipCidr, List<String> routeTableIds) {
    return RouteTableReader.read(
        clients,
        RouteTableReader.canonicalVip(vipCidr),
        RouteTableReader.checkIds(routeTableIds),
        new AtomicInteger());
  }

  /**
   * As {@link #readRoutes(String, List)}, giving up retrying after {@code retryDeadline}: for a
   * read repeated every loop, where a fresh attempt on the next loop beats a long wait in this one.
   */
  public Map<String, RouteState> readRoutes(
      String vipCidr, List<String> routeTableIds, java.time.Duration retryDeadline) {
    return RouteTableReader.read(
        clients,
        RouteTableReader.canonicalVip(vipCidr),
        RouteTableReader.checkIds(routeTableIds),
        new AtomicInteger(),
        retryDeadline);
  }

  /**
   * Points the virtual-IP route of every table at {@code target}: check, act, verify.
   *
   * <ol>
   *   <li>Read all tables (one call). A table already on the target is left alone.
   *   <li>ReplaceRoute the others concurrently (at most maxConcurrency at once); CreateRoute where
   *       the route is absent and {@code createIfMissing}, else that table FAILS with the command
   *       that creates it.
   *   <li>Read all tables back (one call). A table that lost its target after a write that
   *       succeeded (another writer, or EC2 itself) gets one more write, then one more read.
   * </ol>
   *
   * @throws IllegalArgumentException for a malformed virtual IP or route table id (a configuration
   *     error)
   */
  public RouteSwitchResult pointRoute(
      String vipCidr, List<String> routeTableIds, RouteTarget target, boolean createIfMissing) {
    return pointRoute(vipCidr, routeTableIds, target, createIfMissing, Map.of());
  }

  /**
   * As {@link #pointRoute(String, List, RouteTarget, boolean)}, with {@code seen}: what a recent
   * {@link #readRoutes} of the same virtual IP returned. When it shows every table with its route
   * (active or blackhole), it stands for the first read, which is skipped: one EC2 round trip less
   * on the failover path. That is as safe as reading first: a ReplaceRoute is unconditional
   * whichever read came before it (EC2 has no compare-and-swap), and the read-back checks every
   * table, so a table that changed since {@code seen} is repaired once like any other, or fails
   * with its reason. A table seen without its route, missing or not at all is read first, as
   * without {@code seen}, since creating or refusing it depends on the state now.
   */
  public RouteSwitchResult pointRoute(
      String vipCidr,
      List<String> routeTableIds,
      RouteTarget target,
      boolean createIfMissing,
      Map<String, RouteState> seen) {
    String vip = RouteTableReader.canonicalVip(vipCidr);
    List<String> tables = RouteTableReader.checkIds(routeTableIds);
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(seen, "seen");
    Instant start = clock.instant();
    AtomicInteger calls = new AtomicInteger();
    boolean trustSeen = tables.stream().allMatch(t -> hasRoute(seen.get(t)));
    log.info(
        "event=route_switch_start vip={} target={} tables={} create_if_missing={} checked={}",
        vip,
        target.id(),
        tables.size(),
        createIfMissing,
        trustSeen ? "seen" : "read");

    Map<String, RouteState> before = new LinkedHashMap<>();
    if (trustSeen) {
      tables.forEach(t -> before.put(t, seen.get(t)));
    } else {
      try {
        before.putAll(RouteTableReader.read(clients, vip, tables, calls));
      } catch (AwsCallException e) {
        List<TableResult> failed = new ArrayList<>();
        for (String table : tables) {
          failed.add(
              failure(
                  table,
                  Optional.empty(),
                  Optional.empty(),
                  "could not read the route table: " + e.error().describe(),
                  Optional.of(e.error())));
        }
        return finish(vip, target, failed, calls, start);
      }
    }

    // Check and act.
    Map<String, TableResult> settled = new LinkedHashMap<>();
    Map<String, Outcome> intended = new LinkedHashMap<>();
    Map<String, Future<Optional<AwsError>>> writes = new LinkedHashMap<>();
    for (String table : tables) {
      RouteState state = before.get(table);
      if (state.status() == RouteState.Status.TABLE_MISSING) {
        settled.put(
            table,
            refused(
                table,
                "not found in region "
                    + clients.settings().region()
                    + ": check the route table id and the region"));
      } else if (state.pointsAt(target)) {
        intended.put(table, Outcome.UNCHANGED);
      } else if (state.status() == RouteState.Status.ABSENT && !createIfMissing) {
        settled.put(
            table,
            refused(
                table,
                "has no route for "
                    + vip
                    + " and creating it is not allowed: create it with '"
                    + target.createRouteCommand(table, vip)
                    + "', or allow creating the route"));
      } else {
        boolean create = state.status() == RouteState.Status.ABSENT;
        intended.put(table, create ? Outcome.CREATED : Outcome.REPLACED);
        writes.put(
            table,
            clients.executor().submit(() -> write(table, vip, state, target, create, calls)));
      }
    }
    Map<String, Optional<AwsError>> writeErrors = awaitAll(writes);

    // Verify every table we did not give up on, in one read.
    List<String> toVerify = tables.stream().filter(t -> !settled.containsKey(t)).toList();
    Map<String, RouteState> after = Map.of();
    if (!toVerify.isEmpty()) {
      try {
        after = RouteTableReader.read(clients, vip, toVerify, calls);
      } catch (AwsCallException e) {
        for (String table : toVerify) {
          settled.put(
              table,
              failure(
                  table,
                  before.get(table).target(),
                  Optional.empty(),
                  "could not read the route back to verify it (retry the switch): "
                      + e.error().describe(),
                  Optional.of(e.error())));
        }
      }
    }

    Map<String, Future<Optional<AwsError>>> repairs = new LinkedHashMap<>();
    for (String table : toVerify) {
      if (settled.containsKey(table)) {
        continue;
      }
      RouteState now = after.get(table);
      Optional<AwsError> writeError = writeErrors.getOrDefault(table, Optional.empty());
      if (now.pointsAt(target)) {
        Optional<String> note =
            writeError.map(
                err -> "write reported an error but the route is on the target: " + err.describe());
        if (note.isEmpty() && now.status() == RouteState.Status.BLACKHOLE) {
          note =
              Optional.of(
                  "route is a blackhole: "
                      + target.id()
                      + " is not attached to a running instance");
        }
        settled.put(
            table,
            new TableResult(
                table,
                intended.get(table),
                before.get(table).target(),
                now.target(),
                note,
                Optional.empty()));
      } else if (writeError.isPresent()) {
        settled.put(
            table,
            failure(
                table,
                before.get(table).target(),
                now.target(),
                writeError.get().describe() + "; route now " + now.describe(),
                writeError));
      } else if (now.status() == RouteState.Status.TABLE_MISSING) {
        settled.put(
            table,
            failure(
                table,
                before.get(table).target(),
                Optional.empty(),
                "route table " + table + " disappeared during the switch",
                Optional.empty()));
      } else {
        // The write succeeded (or was not needed, as the first read or seen said) yet the route is
        // not on the target: repair once. Re-creating a route that vanished is allowed even without
        // createIfMissing: it existed when we started.
        boolean create = now.status() == RouteState.Status.ABSENT;
        log.warn(
            "event=route_verify_mismatch table={} vip={} expected={} actual={}",
            table,
            vip,
            target.id(),
            now.describe());
        repairs.put(
            table, clients.executor().submit(() -> write(table, vip, now, target, create, calls)));
      }
    }

    if (!repairs.isEmpty()) {
      Map<String, Optional<AwsError>> repairErrors = awaitAll(repairs);
      List<String> repaired = new ArrayList<>(repairs.keySet());
      Map<String, RouteState> reread = Map.of();
      Optional<AwsError> rereadError = Optional.empty();
      try {
        reread = RouteTableReader.read(clients, vip, repaired, calls);
      } catch (AwsCallException e) {
        rereadError = Optional.of(e.error());
      }
      for (String table : repaired) {
        RouteState now = reread.get(table);
        Optional<AwsError> error = repairErrors.get(table);
        if (now != null && now.pointsAt(target)) {
          log.info("event=route_repaired table={} vip={} to={}", table, vip, target.id());
          settled.put(
              table,
              new TableResult(
                  table,
                  Outcome.REPAIRED,
                  before.get(table).target(),
                  now.target(),
                  Optional.of("route was off the target at the read-back; repaired"),
                  Optional.empty()));
        } else {
          Optional<AwsError> cause = error.isPresent() ? error : rereadError;
          settled.put(
              table,
              failure(
                  table,
                  before.get(table).target(),
                  now == null ? Optional.empty() : now.target(),
                  "route left the target after the write and the repair did not hold"
                      + (now == null ? "" : "; route now " + now.describe())
                      + cause
                          .map(c -> ": " + c.describe())
                          .orElse(": another writer may be changing it"),
                  cause));
        }
      }
    }

    List<TableResult> results = new ArrayList<>();
    for (String table : tables) {
      results.add(settled.get(table));
    }
    return finish(vip, target, results, calls, start);
  }

  /** Whether a table was seen with its virtual-IP route, whatever it pointed at. */
  private static boolean hasRoute(RouteState state) {
    return state != null
        && (state.status() == RouteState.Status.ACTIVE
            || state.status() == RouteState.Status.BLACKHOLE);
  }

  /** One ReplaceRoute or CreateRoute, logged before and after; the error as a value. */
  private Optional<AwsError> write(
      String table,
      String vip,
      RouteState from,
      RouteTarget target,
      boolean create,
      AtomicInteger calls) {
    String action = create ? "ec2:CreateRoute" : "ec2:ReplaceRoute";
    String verb = create ? "route_create" : "route_replace";
    Instant started = clock.instant();
    log.info(
        "event={}_start table={} vip={} from={} to={}",
        verb,
        table,
        vip,
        from.describe(),
        target.id());
    // CreateRoute and ReplaceRoute take the same fields, in builders of no common type. A null
    // field is left out of the request, so exactly one of these two names the target.
    String eni = target.kind() == RouteTarget.Kind.NETWORK_INTERFACE ? target.id() : null;
    String instance = eni == null ? target.id() : null;
    Ec2Client ec2 = clients.ec2();
    try {
      clients.call(
          action,
          table,
          calls,
          create
              ? () ->
                  ec2.createRoute(
                      r ->
                          r.routeTableId(table)
                              .destinationCidrBlock(vip)
                              .networkInterfaceId(eni)
                              .instanceId(instance))
              : () ->
                  ec2.replaceRoute(
                      r ->
                          r.routeTableId(table)
                              .destinationCidrBlock(vip)
                              .networkInterfaceId(eni)
                              .instanceId(instance)));
      log.info(
          "event={} table={} vip={} from={} to={} ms={}",
          create ? "route_created" : "route_replaced",
          table,
          vip,
          from.describe(),
          target.id(),
          millisSince(started));
      return Optional.empty();
    } catch (AwsCallException e) {
      AwsError error = e.error();
      log.warn(
          "event={}_failed table={} vip={} from={} to={} kind={} code={} attempts={} error=\"{}\"",
          verb,
          table,
          vip,
          from.describe(),
          target.id(),
          error.kind(),
          error.errorCode().orElse("-"),
          error.attempts(),
          error.message());
      return Optional.of(error);
    }
  }

  private Map<String, Optional<AwsError>> awaitAll(
      Map<String, Future<Optional<AwsError>>> futures) {
    Map<String, Optional<AwsError>> results = new LinkedHashMap<>();
    for (Map.Entry<String, Future<Optional<AwsError>>> e : futures.entrySet()) {
      try {
        results.put(e.getKey(), e.getValue().get());
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        results.put(
            e.getKey(), Optional.of(unexpected(e.getKey(), "interrupted while writing the route")));
      } catch (ExecutionException ee) {
        // write() turns AWS errors into values: anything here is a bug, reported rather than lost.
        log.error("event=route_write_bug table={}", e.getKey(), ee.getCause());
        results.put(e.getKey(), Optional.of(unexpected(e.getKey(), String.valueOf(ee.getCause()))));
      }
    }
    return results;
  }

  private static AwsError unexpected(String table, String message) {
    return new AwsError(
        AwsError.Kind.OTHER, "ec2:ReplaceRoute", Optional.of(table), Optional.empty(), message, 0);
  }

  private RouteSwitchResult finish(
      String vip,
      RouteTarget target,
      List<TableResult> results,
      AtomicInteger calls,
      Instant start) {
    RouteSwitchResult result =
        new RouteSwitchResult(
            vip, target, results, calls.get(), Duration.between(start, clock.instant()));
    Map<Outcome, Long> n = result.counts();
    log.info(
        "event=route_switch_done vip={} target={} ok={} unchanged={} replaced={} created={}"
            + " repaired={} failed={} api_calls={} ms={}",
        vip,
        target.id(),
        result.allOk(),
        n.get(Outcome.UNCHANGED),
        n.get(Outcome.REPLACED),
        n.get(Outcome.CREATED),
        n.get(Outcome.REPAIRED),
        n.get(Outcome.FAILED),
        result.apiCalls(),
        result.elapsed().toMillis());
    for (TableResult t : results) {
      if (!t.ok()) {
        log.warn(
            "event=route_switch_table_failed table={} vip={} target={} reason=\"{}\"",
            t.routeTableId(),
            vip,
            target.id(),
            t.reason().orElse(""));
      }
    }
    return result;
  }

  private static TableResult failure(
      String table,
      Optional<RouteTarget> before,
      Optional<RouteTarget> after,
      String reason,
      Optional<AwsError> error) {
    return new TableResult(table, Outcome.FAILED, before, after, Optional.of(reason), error);
  }

  /**
   * A table the switch does not write, and why ("route table TABLE " comes first): no route target
   * to report and no AWS error.
   */
  private static TableResult refused(String table, String why) {
    return failure(
        table,
        Optional.empty(),
        Optional.empty(),
        "route table " + table + " " + why,
        Optional.empty());
  }

  private long millisSince(Instant started) {
    return Duration.between(started, clock.instant()).toMillis();
  }
}
