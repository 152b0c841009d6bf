package io.pgfailover.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.AwsSettings;
import io.pgfailover.aws.Finding;
import io.pgfailover.aws.Preflight;
import io.pgfailover.aws.RouteState;
import io.pgfailover.aws.RouteSwitchResult;
import io.pgfailover.aws.RouteSwitchResult.Outcome;
import io.pgfailover.aws.RouteTables;
import io.pgfailover.aws.RouteTarget;
import io.pgfailover.controller.cli.ConfigFromStack;
import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.config.AgentEndpoint;
import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.StackConfig;
import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.model.Capability;
import software.amazon.awssdk.services.cloudformation.model.Output;
import software.amazon.awssdk.services.cloudformation.model.Parameter;
import software.amazon.awssdk.services.cloudformation.model.ResourceStatus;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.cloudformation.model.StackResource;
import software.amazon.awssdk.services.cloudformation.model.StackStatus;
import software.amazon.awssdk.services.ec2.model.IpPermission;
import software.amazon.awssdk.services.ec2.model.Route;
import software.amazon.awssdk.services.ec2.model.RouteTable;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * Creates cloudformation/pgfailover.yaml on the emulator's CloudFormation (over HTTP), then drives
 * the adapter's preflight and route switch against the route tables and instances the stack made,
 * and writes the controller config from the stack outputs with {@code failoverctl config
 * from-stack}. Runs on moto and on LocalStack; each has its own CloudFormation engine.
 *
 * <p>What moto (5.2.x) does not do, measured, and how this test deals with it:
 *
 * <ol>
 *   <li>{@code AWS::EC2::Instance} ignores {@code NetworkInterfaces} and {@code LaunchTemplate}:
 *       each instance gets a fresh primary ENI in the default VPC instead of the stack's ENI in its
 *       private subnet, and no IMDSv2, profile or user data. The stack's ENIs exist, unattached. So
 *       the route tables (which name the stack's ENIs) and the instances disagree on the emulator;
 *       the preflight findings that follow from it are asserted as exactly those, and everything
 *       else must be OK. On AWS the instances take the stack's ENIs.
 *   <li>{@code SourceDestCheck: false} is ignored on ENIs and instances: preflight reports it, as
 *       asserted.
 *   <li>{@code GetAtt <instance>.PrimaryNetworkInterfaceId} does not exist: the template never uses
 *       it (the ENIs are separate resources, which moto creates and routes to).
 *   <li>{@code AWS::SecretsManager::Secret} (the passwords and the agents' token), {@code
 *       AWS::EC2::EIPAssociation}, {@code AWS::CloudWatch::Alarm} (all four alarms) and {@code
 *       AWS::SNS::Subscription} are skipped (moto logs "No Moto CloudFormation support"), so the
 *       outputs that name a secret are absent; the topic is created. The alarms are pinned by
 *       CloudFormationPolicyTest and cfn-lint only. Rules are not evaluated; user data never runs
 *       (no PostgreSQL, no NAT, no agent), but the launch templates keep it as CloudFormation
 *       rendered it, which {@link #theLaunchTemplatesCarryTheRenderedBootScriptsWithTheSharedSteps}
 *       reads.
 *   <li>delete-stack leaves resources behind: this test never deletes; the extension resets moto
 *       per test.
 * </ol>
 *
 * <p>What LocalStack (2026.3, community, the image scripts/lib/localstack.sh builds) does not do,
 * measured: its CloudFormation has no provider for {@code AWS::EC2::NetworkInterface}, {@code EIP},
 * {@code EIPAssociation}, {@code LaunchTemplate} and {@code SecurityGroupIngress}, and the image
 * drops DynamoDB (so the lease table and the IAM role and profile whose policy names it are skipped
 * too). Skipped resources are reported as created; their {@code Ref} and {@code GetAtt} read
 * "unknown", so the routes the stack makes have no target and the instances (in the default VPC, as
 * on moto) have no stack ENI. {@link #theStackCompletesWithTheOutputsEachEmulatorCanGive} pins
 * exactly which outputs read "unknown" there; the route switch, preflight and generated config need
 * the stack's ENIs and run on moto only.
 *
 * <p>The SSM-typed AMI parameter resolves on both (each ships the public Amazon Linux parameters),
 * so the template runs with its defaults apart from the two AZs and the jar's checksum (which has
 * none).
 */
class StackOnEmulatorIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();

  /** from-stack uses the SDK's default credential chain, as on an instance. */
  private static final Path TEMPLATE =
      Path.of(System.getProperty("user.dir")).getParent().resolve("cloudformation/pgfailover.yaml");

  private static final String STACK = "orders";

  @BeforeEach
  void emulatorCredentialsForTheCommand() {
    // from-stack uses the SDK's default credential chain, as on an instance; system properties are
    // its first link. This test's account: LocalStack gives each test a fresh one.
    AwsCredentials credentials = aws.credentialsProvider().resolveCredentials();
    System.setProperty("aws.accessKeyId", credentials.accessKeyId());
    System.setProperty("aws.secretAccessKey", credentials.secretAccessKey());
  }

  @AfterAll
  static void clearCredentials() {
    System.clearProperty("aws.accessKeyId");
    System.clearProperty("aws.secretAccessKey");
  }

  /** Outputs that name a resource LocalStack's CloudFormation skips (see the class comment). */
  private static final Set<String> UNKNOWN_ON_LOCALSTACK =
      Set.of(
          "LeaseTableName",
          "NatEniIds",
          "NatPublicIps",
          "NodeAEniId",
          "NodeAPrivateIp",
          "NodeBEniId",
          "NodeBPrivateIp");

  @Test
  void theStackCompletesWithTheOutputsEachEmulatorCanGive() throws Exception {
    Map<String, String> out = createStack();

    Set<String> unknown =
        out.entrySet().stream()
            .filter(e -> e.getValue().contains("unknown"))
            .map(Map.Entry::getKey)
            .collect(Collectors.toSet());
    assertEquals(onLocalStack() ? UNKNOWN_ON_LOCALSTACK : Set.of(), unknown, out::toString);
    assertEquals("192.168.255.10/32", out.get("VirtualIp"));
    List<String> tables = List.of(out.get("RouteTableIds").split(","));
    List<RouteTable> described =
        aws.ec2Client().describeRouteTables(r -> r.routeTableIds(tables)).routeTables();
    assertEquals(2, described.size());
    for (RouteTable table : described) {
      assertEquals(out.get("VpcId"), table.vpcId(), table.routeTableId());
      // On LocalStack the route exists without a target: its ENI was skipped.
      route(table, out.get("VirtualIp"));
    }
  }

  @Test
  void theStackCarriesAPreflightARouteSwitchAndAGeneratedConfig(@TempDir Path dir)
      throws Exception {
    assumeFalse(
        onLocalStack(),
        "LocalStack's community CloudFormation creates none of the stack's ENIs (no provider for"
            + " AWS::EC2::NetworkInterface): the routes have no target and the outputs name no"
            + " ENI");
    Map<String, String> out = createStack();
    List<String> tables = List.of(out.get("RouteTableIds").split(","));
    String vip = out.get("VirtualIp");
    String eniA = out.get("NodeAEniId");
    String eniB = out.get("NodeBEniId");
    assertEquals("192.168.255.10/32", vip);
    assertEquals(2, tables.size());

    // The private route tables as the stack made them: the virtual IP on pg-a, egress through the
    // same AZ's NAT.
    List<String> natEnis = List.of(out.get("NatEniIds").split(","));
    List<RouteTable> described =
        aws.ec2Client().describeRouteTables(r -> r.routeTableIds(tables)).routeTables();
    assertEquals(2, described.size());
    for (RouteTable table : described) {
      String id = table.routeTableId();
      assertEquals(out.get("VpcId"), table.vpcId(), id);
      assertEquals(eniA, route(table, vip).networkInterfaceId(), id);
      assertEquals(
          natEnis.get(tables.indexOf(id)),
          route(table, "0.0.0.0/0").networkInterfaceId(),
          id + " egress through its own AZ's NAT");
    }

    try (AwsClients clients =
        AwsClients.builder(AwsSettings.defaults(aws.region()).withEndpoint(aws.endpoint()))
            .credentialsProvider(aws.credentialsProvider())
            .build()) {
      // Preflight against what the stack made.
      List<Finding> findings =
          new Preflight(clients)
              .run(
                  new Preflight.Request(
                      Optional.of(out.get("VpcId")),
                      vip,
                      tables,
                      List.of(out.get("NodeAInstanceId"), out.get("NodeBInstanceId")),
                      false));
      assertPreflightFindsOnlyTheEmulatorGaps(findings, out, tables);

      // Route switch to pg-b's ENI, idempotent, and back.
      RouteTables routes = new RouteTables(clients);
      RouteSwitchResult toB =
          routes.pointRoute(vip, tables, RouteTarget.networkInterface(eniB), false);
      assertTrue(toB.allOk(), toB::summary);
      assertEquals(
          List.of(Outcome.REPLACED, Outcome.REPLACED),
          toB.tables().stream().map(RouteSwitchResult.TableResult::outcome).toList());
      for (String id : tables) {
        assertEquals(
            Optional.of(RouteTarget.networkInterface(eniB)),
            routes.readRoutes(vip, tables).get(id).target(),
            id);
      }
      RouteSwitchResult again =
          routes.pointRoute(vip, tables, RouteTarget.networkInterface(eniB), false);
      assertEquals(
          List.of(Outcome.UNCHANGED, Outcome.UNCHANGED),
          again.tables().stream().map(RouteSwitchResult.TableResult::outcome).toList());
      RouteSwitchResult back =
          routes.pointRoute(vip, tables, RouteTarget.networkInterface(eniA), false);
      assertTrue(back.allOk(), back::summary);
      Map<String, RouteState> now = routes.readRoutes(vip, tables);
      tables.forEach(
          id ->
              assertEquals(
                  Optional.of(RouteTarget.networkInterface(eniA)), now.get(id).target(), id));
      // The switch wrote only the virtual-IP route: egress still goes through each AZ's own NAT.
      for (RouteTable table :
          aws.ec2Client().describeRouteTables(r -> r.routeTableIds(tables)).routeTables()) {
        assertEquals(
            natEnis.get(tables.indexOf(table.routeTableId())),
            route(table, "0.0.0.0/0").networkInterfaceId());
      }
    }

    // The controller's config from the outputs, through the command the NAT instance's boot script
    // runs.
    Path config = dir.resolve("controller.yaml");
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new ConfigFromStack());
    cmd.setErr(new PrintWriter(err, true));
    int exit =
        cmd.execute(
            "--stack",
            STACK,
            "--region",
            aws.region(),
            "--endpoint",
            aws.endpoint().toString(),
            "--out",
            config.toString());
    assertEquals(ExitCodes.OK, exit, err::toString);
    ControllerConfig c = ConfigLoader.load(config);
    assertEquals("orders-db", c.cluster());
    assertEquals(aws.region(), c.aws().region());
    assertEquals(Optional.of(aws.endpoint()), c.aws().endpoint());
    assertEquals(vip, c.virtualIp());
    assertEquals(tables, c.routeTables());
    assertEquals(
        List.of(out.get("NodeAInstanceId"), out.get("NodeBInstanceId")),
        c.nodes().stream().map(n -> n.instanceId()).toList());
    assertEquals(List.of(eniA, eniB), c.nodes().stream().map(n -> n.eniId()).toList());
    assertEquals(
        List.of(out.get("NodeAPrivateIp"), out.get("NodeBPrivateIp")),
        c.nodes().stream().map(n -> n.host()).toList());
    assertEquals(
        Optional.of(c.nodes().get(0)),
        c.nodeByTarget(eniA),
        "the route target the stack set names pg-a");
    // The node agents, on each node's private address at the stack's AgentPort, the token file
    // the NAT/control instance's boot script writes; and the old primary rejoins by itself.
    assertEquals("8009", out.get("AgentPort"));
    assertEquals(
        List.of(
            Optional.of(
                new AgentEndpoint(
                    URI.create("http://" + out.get("NodeAPrivateIp") + ":8009"),
                    Path.of(StackConfig.AGENT_TOKEN_FILE))),
            Optional.of(
                new AgentEndpoint(
                    URI.create("http://" + out.get("NodeBPrivateIp") + ":8009"),
                    Path.of(StackConfig.AGENT_TOKEN_FILE)))),
        c.nodes().stream().map(n -> n.agent()).toList());
    assertEquals(ControllerConfig.RejoinMode.AUTOMATIC, c.rejoin());

    // A second run does not replace the file without --force, and does with it.
    String before = Files.readString(config);
    assertEquals(
        ExitCodes.REFUSED,
        cmd.execute(
            "--stack",
            STACK,
            "--region",
            aws.region(),
            "--endpoint",
            aws.endpoint().toString(),
            "--out",
            config.toString()));
    assertEquals(
        ExitCodes.OK,
        new CommandLine(new ConfigFromStack())
            .execute(
                "--stack",
                STACK,
                "--region",
                aws.region(),
                "--endpoint",
                aws.endpoint().toString(),
                "--out",
                config.toString(),
                "--force",
                "--fencing",
                "stop-instance"));
    assertTrue(
        !before.equals(Files.readString(config))
            && Files.readString(config).contains("fencing: stop-instance"));
  }

  /**
   * The node agent's port reaches the database instances from the controllers' group only, and the
   * notification topic the outputs name is the stack's.
   */
  @Test
  void theAgentPortIsOpenToTheControllersOnlyAndTheTopicIsTheStacks() throws Exception {
    Map<String, String> out = createStack();
    Map<String, StackResource> resources = stackResources();
    String dbGroup = resources.get("DbSecurityGroup").physicalResourceId();
    String controllers = resources.get("ControllerSecurityGroup").physicalResourceId();
    int port = Integer.parseInt(out.get("AgentPort"));
    List<String> reaching = new ArrayList<>();
    for (IpPermission p :
        aws.ec2Client()
            .describeSecurityGroups(r -> r.groupIds(dbGroup))
            .securityGroups()
            .get(0)
            .ipPermissions()) {
      boolean all = "-1".equals(p.ipProtocol());
      if (all || (p.fromPort() <= port && port <= p.toPort())) {
        p.userIdGroupPairs().forEach(g -> reaching.add(p.ipProtocol() + " " + g.groupId()));
        p.ipRanges().forEach(c -> reaching.add(p.ipProtocol() + " " + c.cidrIp()));
      }
    }
    // LocalStack's CloudFormation has no AWS::EC2::SecurityGroupIngress provider: the rule is
    // reported created and never made, so only moto can show who reaches the port.
    assertEquals(onLocalStack() ? List.of() : List.of("tcp " + controllers), reaching);

    StackResource topic = resources.get("NotificationTopic");
    assertEquals(ResourceStatus.CREATE_COMPLETE, topic.resourceStatus());
    assertEquals(topic.physicalResourceId(), out.get("NotificationTopicArn"));
    assertTrue(
        out.get("NotificationTopicArn").startsWith("arn:aws:sns:" + aws.region() + ":"),
        out::toString);
    assertEquals("PgFailover", out.get("MetricsNamespace"));
  }

  /**
   * What an instance would run: CloudFormation inserts the shared steps (Fn::FindInMap as an
   * Fn::Sub variable) and the parameters; the result fits EC2's 16 KB.
   */
  @Test
  void theLaunchTemplatesCarryTheRenderedBootScriptsWithTheSharedSteps() throws Exception {
    assumeFalse(onLocalStack(), "LocalStack's CloudFormation has no AWS::EC2::LaunchTemplate");
    createStack();
    Map<String, StackResource> resources = stackResources();
    for (String lt : List.of("NatLaunchTemplate", "DbLaunchTemplate")) {
      String id = resources.get(lt).physicalResourceId();
      String encoded =
          aws.ec2Client()
              .describeLaunchTemplateVersions(r -> r.launchTemplateId(id))
              .launchTemplateVersions()
              .get(0)
              .launchTemplateData()
              .userData();
      byte[] raw = Base64.getDecoder().decode(encoded);
      String script = new String(raw, StandardCharsets.UTF_8);
      assertTrue(raw.length <= 16 * 1024, lt + ": " + raw.length + " bytes");
      assertTrue(script.startsWith("#!/bin/bash\n"), lt);
      assertTrue(script.contains("\ninstall_jar() {\n"), lt + " has the shared steps");
      assertTrue(script.contains("\nARTIFACT_SHA256=" + "ab".repeat(32) + "\n"), lt);
      assertTrue(script.contains("\ninstall_jar\n"), lt + " installs the jar");
      // Only the secrets moto skips (class comment) are left as written; everything else is
      // substituted.
      Set<String> left = new TreeSet<>();
      Matcher m = Pattern.compile("\\$\\{([^}]*)}").matcher(script);
      while (m.find()) {
        left.add(m.group(1));
      }
      assertTrue(
          Set.of("ControllerDbPassword", "ReplicationPassword", "AgentToken").containsAll(left),
          lt + ": left unsubstituted: " + left);
      assertTrue(left.contains("AgentToken"), lt + " reads the agents' token");
    }
  }

  private Map<String, StackResource> stackResources() {
    try (CloudFormationClient cfn = cloudFormation()) {
      Map<String, StackResource> byLogicalId = new LinkedHashMap<>();
      cfn.describeStackResources(r -> r.stackName(STACK))
          .stackResources()
          .forEach(r -> byLogicalId.put(r.logicalResourceId(), r));
      return byLogicalId;
    }
  }

  private static String uploadTemplate() {
    // S3 bucket names are global: on LocalStack every test's fresh account shares one namespace.
    String bucket = "pgfailover-templates-" + UUID.randomUUID().toString().substring(0, 8);
    try (S3Client s3 =
        S3Client.builder()
            .endpointOverride(aws.endpoint())
            .region(Region.of(aws.region()))
            .credentialsProvider(aws.credentialsProvider())
            .forcePathStyle(true)
            .httpClient(UrlConnectionHttpClient.create())
            .build()) {
      s3.createBucket(
          r -> {
            r.bucket(bucket);
            if (!aws.region().equals("us-east-1")) {
              r.createBucketConfiguration(c -> c.locationConstraint(aws.region()));
            }
          });
      s3.putObject(r -> r.bucket(bucket).key("pgfailover.yaml"), RequestBody.fromFile(TEMPLATE));
    }
    // The form deploy.sh's `aws cloudformation deploy --s3-bucket` sends; both emulators read such
    // a
    // URL from their own S3.
    return "https://s3.amazonaws.com/" + bucket + "/pgfailover.yaml";
  }

  private static CloudFormationClient cloudFormation() {
    return CloudFormationClient.builder()
        .endpointOverride(aws.endpoint())
        .region(Region.of(aws.region()))
        .credentialsProvider(aws.credentialsProvider())
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  @Test
  void fromStackNamesAStackThatDoesNotExist() {
    StringWriter err = new StringWriter();
    CommandLine cmd = new CommandLine(new ConfigFromStack());
    cmd.setErr(new PrintWriter(err, true));
    assertEquals(
        ExitCodes.FAILED,
        cmd.execute(
            "--stack",
            "no-such-stack",
            "--region",
            aws.region(),
            "--endpoint",
            aws.endpoint().toString()));
    assertTrue(
        err.toString().contains("no-such-stack")
            && err.toString().contains("check the stack name and --region"),
        err::toString);
  }

  private static boolean onLocalStack() {
    return aws.emulatorName().equals("localstack");
  }

  /**
   * Everything preflight can check on the emulator is OK: identity, the virtual IP outside the VPC,
   * both route tables in the stack's VPC with the virtual-IP route present. The only FAILs are the
   * two instance gaps listed in the class comment, and the only WARNs their consequence (the route
   * names the stack's ENI, which moto did not attach) plus the permission probes, which an emulator
   * cannot answer.
   */
  private static void assertPreflightFindsOnlyTheEmulatorGaps(
      List<Finding> findings, Map<String, String> out, List<String> tables) {
    String all = findings.stream().map(Finding::toString).collect(Collectors.joining("\n"));
    List<String> instances = List.of(out.get("NodeAInstanceId"), out.get("NodeBInstanceId"));
    assertTrue(
        findings.stream()
            .anyMatch(f -> f.subject().equals("identity") && f.severity() == Finding.Severity.OK),
        all);
    assertTrue(
        findings.stream()
            .anyMatch(
                f ->
                    f.subject().equals("virtual IP " + out.get("VirtualIp"))
                        && f.severity() == Finding.Severity.OK),
        all);
    for (Finding f : findings) {
      switch (f.severity()) {
        case OK -> {}
        case FAIL ->
            assertTrue(
                instances.contains(f.subject())
                    && (f.message().startsWith("instance is in ")
                        || f.message().startsWith("source/dest check is enabled")),
                "unexpected FAIL: " + f + "\n" + all);
        case WARN ->
            assertTrue(
                (tables.contains(f.subject())
                        && f.message().contains("not at a PostgreSQL instance"))
                    || f.subject().equals("permissions"),
                "unexpected WARN: " + f + "\n" + all);
      }
    }
    for (String table : tables) {
      assertTrue(
          findings.stream()
              .anyMatch(
                  f ->
                      f.subject().equals(table)
                          && f.message().contains("points at " + out.get("NodeAEniId"))),
          all);
    }
  }

  private static Route route(RouteTable table, String destination) {
    return table.routes().stream()
        .filter(r -> destination.equals(r.destinationCidrBlock()))
        .findFirst()
        .orElseThrow(
            () ->
                new AssertionError(
                    table.routeTableId()
                        + " has no route for "
                        + destination
                        + ": "
                        + table.routes()));
  }

  /**
   * The template goes through S3, as {@code scripts/deploy.sh} sends it: it is larger than the
   * 51,200 bytes CloudFormation accepts as a request's TemplateBody (LocalStack enforces that limit
   * as AWS does; moto does not).
   */
  private Map<String, String> createStack() throws Exception {
    String templateUrl = uploadTemplate();
    try (CloudFormationClient cfn = cloudFormation()) {
      cfn.createStack(
          r ->
              r.stackName(STACK)
                  .templateURL(templateUrl)
                  .capabilities(Capability.CAPABILITY_IAM)
                  .parameters(
                      Parameter.builder()
                          .parameterKey("ClusterName")
                          .parameterValue("orders-db")
                          .build(),
                      Parameter.builder()
                          .parameterKey("ArtifactSha256")
                          .parameterValue("ab".repeat(32))
                          .build(),
                      Parameter.builder()
                          .parameterKey("AvailabilityZoneA")
                          .parameterValue(aws.region() + "a")
                          .build(),
                      Parameter.builder()
                          .parameterKey("AvailabilityZoneB")
                          .parameterValue(aws.region() + "b")
                          .build()));
      Stack stack =
          cfn.waiter()
              .waitUntilStackCreateComplete(r -> r.stackName(STACK))
              .matched()
              .response()
              .orElseThrow(() -> new AssertionError("stack creation did not complete"))
              .stacks()
              .get(0);
      assertEquals(StackStatus.CREATE_COMPLETE, stack.stackStatus(), stack.stackStatusReason());
      Map<String, String> outputs = new LinkedHashMap<>();
      for (Output o : stack.outputs()) {
        outputs.put(o.outputKey(), o.outputValue());
      }
      assertTrue(
          outputs.keySet().containsAll(StackConfig.requiredOutputs()),
          "outputs: " + outputs.keySet());
      return outputs;
    }
  }
}
