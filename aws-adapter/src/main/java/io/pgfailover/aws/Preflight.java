package io.pgfailover.aws;

import io.pgfailover.aws.internal.Ipv4Cidr;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.ec2.model.RouteTable;
import software.amazon.awssdk.services.ec2.model.Vpc;
import software.amazon.awssdk.services.ec2.model.VpcCidrBlockAssociation;
import software.amazon.awssdk.services.sts.model.GetCallerIdentityResponse;

/**
 * Checks, before the controller starts, that a failover could work: who we are (STS), that the
 * route tables and PostgreSQL instances exist in one VPC, that the virtual-IP route is there (or
 * may be created), that the virtual IP lies outside the VPC, that source/dest check is off, and,
 * where the endpoint honours DryRun, that the principal may call ReplaceRoute, CreateRoute and
 * StopInstances. Never changes anything; never throws for AWS failures: each becomes a finding.
 */
public final class Preflight {
  private static final Logger log = LoggerFactory.getLogger(Preflight.class);

  /**
   * What to check.
   *
   * @param vpcId the VPC everything must be in; empty: the VPC of the first PostgreSQL instance
   *     found
   * @param createRouteIfMissing whether the controller may create an absent virtual-IP route
   * @param primaryTarget where the route should point (the primary's ENI) when the caller knows it:
   *     a table without the route then gets the exact command that creates it
   */
  public record Request(
      Optional<String> vpcId,
      String vipCidr,
      List<String> routeTableIds,
      List<String> instanceIds,
      boolean createRouteIfMissing,
      Optional<RouteTarget> primaryTarget) {
    public Request {
      Objects.requireNonNull(vpcId, "vpcId");
      Objects.requireNonNull(primaryTarget, "primaryTarget");
      vipCidr = RouteTableReader.canonicalVip(vipCidr);
      routeTableIds = RouteTableReader.checkIds(routeTableIds);
      if (instanceIds == null || instanceIds.isEmpty()) {
        throw new IllegalArgumentException("instanceIds: give the PostgreSQL instances' ids (i-…)");
      }
      instanceIds = List.copyOf(instanceIds);
    }

    /** Without knowing which node is the primary. */
    public Request(
        Optional<String> vpcId,
        String vipCidr,
        List<String> routeTableIds,
        List<String> instanceIds,
        boolean createRouteIfMissing) {
      this(vpcId, vipCidr, routeTableIds, instanceIds, createRouteIfMissing, Optional.empty());
    }
  }

  private final AwsClients clients;
  private final Ec2Discovery discovery;

  public Preflight(AwsClients clients) {
    this.clients = Objects.requireNonNull(clients, "clients");
    this.discovery = new Ec2Discovery(clients);
  }

  /** True when no finding is a FAIL. */
  public static boolean passed(List<Finding> findings) {
    return findings.stream().noneMatch(f -> f.severity() == Finding.Severity.FAIL);
  }

  public List<Finding> run(Request request) {
    AtomicInteger calls = new AtomicInteger();
    List<Finding> findings = new ArrayList<>();
    Optional<GetCallerIdentityResponse> identity = identity(findings, calls);
    String region = clients.settings().region();

    Optional<Map<String, InstanceInfo>> described = describeInstances(request, findings, calls);
    Map<String, InstanceInfo> instances = described.orElse(Map.of());
    Optional<String> expectedVpc =
        request
            .vpcId()
            .or(
                () ->
                    request.instanceIds().stream()
                        .filter(instances::containsKey)
                        .findFirst()
                        .map(id -> instances.get(id).vpcId()));
    if (described.isPresent()) {
      for (String id : request.instanceIds()) {
        InstanceInfo info = instances.get(id);
        if (info == null) {
          findings.add(notInRegion("instance", id, region));
        } else {
          checkInstance(info, expectedVpc, findings);
        }
      }
    }
    expectedVpc.ifPresent(vpc -> checkVipOutsideVpc(vpc, request.vipCidr(), findings, calls));

    Map<String, RouteTable> tables = Map.of();
    try {
      tables = RouteTableReader.describe(clients, request.routeTableIds(), calls);
      Set<String> instanceTargets =
          instances.values().stream()
              .flatMap(i -> Stream.of(i.instanceId(), i.primaryEniId()))
              .collect(Collectors.toSet());
      for (String id : request.routeTableIds()) {
        RouteTable table = tables.get(id);
        if (table == null) {
          findings.add(notInRegion("route table", id, region));
        } else {
          checkRouteTable(table, request, expectedVpc, instanceTargets, findings);
        }
      }
    } catch (AwsCallException e) {
      findings.add(cannotDescribe("route tables", "the route tables", e));
    }

    permissions(request, identity, instances, tables, findings, calls);

    for (Finding f : findings) {
      if (f.severity() == Finding.Severity.OK) {
        log.info(
            "event=preflight_finding severity={} subject={} message=\"{}\"",
            f.severity(),
            f.subject(),
            f.message());
      } else {
        log.warn(
            "event=preflight_finding severity={} subject={} message=\"{}\" fix=\"{}\"",
            f.severity(),
            f.subject(),
            f.message(),
            f.fix().orElse(""));
      }
    }
    log.info(
        "event=preflight_done passed={} findings={} api_calls={}",
        passed(findings),
        findings.size(),
        calls.get());
    return List.copyOf(findings);
  }

  private static Finding cannotDescribe(String subject, String what, AwsCallException e) {
    return Finding.fail(
        subject, "cannot describe " + what + ": " + e.error().describe(), fixFor(e.error()));
  }

  private static Finding notInRegion(String what, String id, String region) {
    return Finding.fail(
        id, what + " not found in region " + region, "check the " + what + " id and the region");
  }

  private Optional<Map<String, InstanceInfo>> describeInstances(
      Request request, List<Finding> findings, AtomicInteger calls) {
    try {
      return Optional.of(discovery.describeInstances(request.instanceIds(), calls));
    } catch (AwsCallException e) {
      findings.add(cannotDescribe("instances", "the PostgreSQL instances", e));
      return Optional.empty();
    }
  }

  private Optional<GetCallerIdentityResponse> identity(
      List<Finding> findings, AtomicInteger calls) {
    try {
      GetCallerIdentityResponse me =
          clients.call(
              "sts:GetCallerIdentity", null, calls, () -> clients.sts().getCallerIdentity());
      findings.add(Finding.ok("identity", "principal " + me.arn() + " in account " + me.account()));
      return Optional.of(me);
    } catch (AwsCallException e) {
      findings.add(
          Finding.fail(
              "identity",
              "cannot tell who we are: " + e.error().describe(),
              "give the controller credentials: on EC2 an instance profile role; elsewhere"
                  + " AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE"));
      return Optional.empty();
    }
  }

  private static void checkInstance(
      InstanceInfo info, Optional<String> expectedVpc, List<Finding> findings) {
    String id = info.instanceId();
    if (expectedVpc.isPresent() && !expectedVpc.get().equals(info.vpcId())) {
      findings.add(
          Finding.fail(
              id,
              "instance is in " + info.vpcId() + ", expected " + expectedVpc.get(),
              "list PostgreSQL instances of " + expectedVpc.get() + " only"));
    }
    if (info.sourceDestCheck()) {
      findings.add(
          Finding.fail(
              id,
              "source/dest check is enabled: the instance drops traffic addressed to the virtual"
                  + " IP",
              "aws ec2 modify-instance-attribute --instance-id " + id + " --no-source-dest-check"));
    }
    if (!"running".equals(info.state())) {
      findings.add(
          Finding.warn(
              id,
              "instance is " + info.state() + ", not running",
              "start it or check why it stopped"));
    }
    if (!info.sourceDestCheck() && "running".equals(info.state())) {
      findings.add(
          Finding.ok(
              id,
              "running in "
                  + info.availabilityZone()
                  + ", ENI "
                  + info.primaryEniId()
                  + ", IP "
                  + info.privateIp()
                  + ", source/dest check disabled"));
    }
  }

  private void checkVipOutsideVpc(
      String vpcId, String vip, List<Finding> findings, AtomicInteger calls) {
    try {
      List<Vpc> vpcs =
          clients
              .call(
                  "ec2:DescribeVpcs",
                  vpcId,
                  calls,
                  () -> clients.ec2().describeVpcs(r -> r.vpcIds(vpcId)))
              .vpcs();
      if (vpcs.isEmpty()) {
        findings.add(Finding.fail(vpcId, "VPC not found", "check the VPC id"));
        return;
      }
      List<String> cidrs = new ArrayList<>();
      for (Vpc vpc : vpcs) {
        cidrs.add(vpc.cidrBlock());
        vpc.cidrBlockAssociationSet().stream()
            .map(VpcCidrBlockAssociation::cidrBlock)
            .filter(c -> !cidrs.contains(c))
            .forEach(cidrs::add);
      }
      Ipv4Cidr vipBlock = Ipv4Cidr.parse(vip);
      Optional<String> overlapping =
          cidrs.stream().filter(c -> c != null && Ipv4Cidr.parse(c).overlaps(vipBlock)).findFirst();
      if (overlapping.isPresent()) {
        findings.add(
            Finding.fail(
                "virtual IP " + vip,
                "lies inside "
                    + vpcId
                    + "'s CIDR "
                    + overlapping.get()
                    + ": AWS delivers in-VPC addresses by subnet and ignores the route",
                "pick a virtual IP outside every CIDR of " + vpcId));
      } else {
        findings.add(Finding.ok("virtual IP " + vip, "outside " + vpcId + "'s CIDRs " + cidrs));
      }
    } catch (AwsCallException e) {
      findings.add(cannotDescribe(vpcId, "the VPC", e));
    }
  }

  private static void checkRouteTable(
      RouteTable table,
      Request request,
      Optional<String> expectedVpc,
      Set<String> instanceTargets,
      List<Finding> findings) {
    String id = table.routeTableId();
    if (expectedVpc.isPresent() && !expectedVpc.get().equals(table.vpcId())) {
      findings.add(
          Finding.fail(
              id,
              "route table belongs to "
                  + table.vpcId()
                  + ", expected "
                  + expectedVpc.get()
                  + " (the PostgreSQL instances' VPC)",
              "list route tables of " + expectedVpc.get() + " only"));
      return;
    }
    RouteState route = RouteTableReader.vipRoute(table, request.vipCidr());
    switch (route.status()) {
      case ABSENT -> {
        String create =
            request
                .primaryTarget()
                .map(t -> t.createRouteCommand(id, request.vipCidr()))
                .orElse(
                    "aws ec2 create-route --route-table-id "
                        + id
                        + " --destination-cidr-block "
                        + request.vipCidr()
                        + " --network-interface-id <primary's ENI>");
        if (request.createRouteIfMissing()) {
          findings.add(
              Finding.warn(
                  id,
                  "no route for " + request.vipCidr() + "; it will be created at the first switch",
                  create));
        } else {
          findings.add(
              Finding.fail(
                  id,
                  "no route for " + request.vipCidr() + " and creating it is not allowed",
                  create + ", or set createRouteIfMissing: true"));
        }
      }
      case BLACKHOLE ->
          findings.add(
              Finding.warn(
                  id,
                  "route for "
                      + request.vipCidr()
                      + " is a blackhole (target "
                      + route.describe()
                      + " is not running)",
                  "the controller moves it to the primary on its first loop"));
      default -> {
        boolean ours = route.target().map(t -> instanceTargets.contains(t.id())).orElse(false);
        if (ours) {
          findings.add(
              Finding.ok(id, "route for " + request.vipCidr() + " points at " + route.describe()));
        } else {
          findings.add(
              Finding.warn(
                  id,
                  "route for "
                      + request.vipCidr()
                      + " points at "
                      + route.describe()
                      + ", not at a PostgreSQL instance",
                  "the controller moves it to the primary on its first loop"));
        }
      }
    }
  }

  private void permissions(
      Request request,
      Optional<GetCallerIdentityResponse> identity,
      Map<String, InstanceInfo> instances,
      Map<String, RouteTable> tables,
      List<Finding> findings,
      AtomicInteger calls) {
    if (!clients.settings().dryRunProbes()) {
      findings.add(
          Finding.warn(
              "permissions",
              "ec2:ReplaceRoute, ec2:CreateRoute and ec2:StopInstances not probed: this"
                  + " endpoint is not trusted to honour DryRun (emulators make the change)",
              "run preflight against real EC2"));
      return;
    }
    Optional<String> anyEni =
        instances.values().stream()
            .map(InstanceInfo::primaryEniId)
            .filter(s -> !s.isEmpty())
            .findFirst();
    for (RouteTable table : tables.values()) {
      String id = table.routeTableId();
      RouteState route = RouteTableReader.vipRoute(table, request.vipCidr());
      Optional<String> eni = route.networkInterfaceId().or(() -> anyEni);
      if (eni.isEmpty()) {
        findings.add(
            Finding.warn(
                "permission ec2:ReplaceRoute on " + id,
                "not probed: no ENI to name in the probe",
                null));
        continue;
      }
      boolean create = route.status() == RouteState.Status.ABSENT;
      if (create && !request.createRouteIfMissing()) {
        continue; // already a FAIL above: the route must exist
      }
      String action = create ? "ec2:CreateRoute" : "ec2:ReplaceRoute";
      findings.add(
          probe(
              action,
              id,
              identity,
              calls,
              create
                  ? () ->
                      clients
                          .ec2()
                          .createRoute(
                              r ->
                                  r.dryRun(true)
                                      .routeTableId(id)
                                      .destinationCidrBlock(request.vipCidr())
                                      .networkInterfaceId(eni.get()))
                  : () ->
                      clients
                          .ec2()
                          .replaceRoute(
                              r ->
                                  r.dryRun(true)
                                      .routeTableId(id)
                                      .destinationCidrBlock(request.vipCidr())
                                      .networkInterfaceId(eni.get()))));
    }
    for (InstanceInfo instance : instances.values()) {
      findings.add(
          probe(
              "ec2:StopInstances",
              instance.instanceId(),
              identity,
              calls,
              () ->
                  clients
                      .ec2()
                      .stopInstances(
                          r -> r.dryRun(true).force(true).instanceIds(instance.instanceId()))));
    }
  }

  /** A DryRun call: DryRunOperation means allowed, UnauthorizedOperation names what is missing. */
  private Finding probe(
      String action,
      String resourceId,
      Optional<GetCallerIdentityResponse> identity,
      AtomicInteger calls,
      Supplier<?> call) {
    String subject = "permission " + action + " on " + resourceId;
    try {
      clients.call(action, resourceId, calls, call);
      return Finding.fail(
          subject,
          "the DryRun request was carried out: this endpoint ignores DryRun and may have made the"
              + " change",
          "set dryRunProbes=false for this endpoint");
    } catch (AwsCallException e) {
      AwsError error = e.error();
      if (error.errorCode().filter("DryRunOperation"::equals).isPresent()) {
        return Finding.ok(subject, "allowed (DryRun)");
      }
      if (error.kind() == AwsError.Kind.AUTHORIZATION) {
        String principal =
            identity.map(GetCallerIdentityResponse::arn).orElse("the controller's role");
        return Finding.fail(
            subject,
            "missing permission " + error.action() + ": " + error.message(),
            "allow " + error.action() + " on " + resourceId + " for " + principal);
      }
      return Finding.warn(subject, "could not check: " + error.describe(), null);
    }
  }

  private static String fixFor(AwsError error) {
    return switch (error.kind()) {
      case AUTHORIZATION -> "allow " + error.action() + " for the controller's role";
      case VALIDATION -> "check the ids and the region in the configuration";
      default -> "check network access to the EC2 API and try again";
    };
  }
}
