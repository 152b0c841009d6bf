package io.pgfailover.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.AgentConfig;
import io.pgfailover.controller.config.AgentConfigLoader;
import io.pgfailover.controller.config.PasswordConfig;
import io.pgfailover.controller.config.StackConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads cloudformation/pgfailover.yaml and pins what the controller's role may do: exactly the
 * least-privilege set of issue 5, with issue 14's notifications and metrics, nothing more. Also
 * checks the template against the code that depends on it (the systemd units and roles file it
 * embeds, the agent config it writes, the outputs StackConfig reads).
 */
class CloudFormationPolicyTest {
  private static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
  private static final String ARN_PREFIX =
      "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:";

  private static Map<String, Object> template;

  @BeforeAll
  static void readTemplate() throws IOException {
    template =
        map(
            new Yaml(new CfnConstructor())
                .load(Files.readString(REPO.resolve("cloudformation/pgfailover.yaml"))));
  }

  /**
   * CloudFormation takes at most 51,200 bytes inline (TemplateBody); a larger template must be sent
   * by URL. Found on LocalStack, which enforces the limit as AWS does.
   */
  @Test
  void deployShSendsTheTemplateThroughS3OnceItIsTooLargeToSendInline() throws IOException {
    long size = Files.size(REPO.resolve("cloudformation/pgfailover.yaml"));
    String deploy = Files.readString(REPO.resolve("scripts/deploy.sh"));
    if (size > 51_200) {
      assertTrue(
          deploy.contains("--s3-bucket \"$bucket\""),
          "the template is " + size + " bytes: deploy.sh must pass --s3-bucket to deploy it");
    }
  }

  @Test
  void theControllerPolicyGrantsExactlyTheLeastPrivilegeSet() {
    List<Map<String, Object>> statements = statements("ControllerRole", "pgfailover-controller");
    Map<String, Object> bySid = new LinkedHashMap<>();
    statements.forEach(s -> bySid.put((String) s.get("Sid"), s));
    assertEquals(
        List.of(
            "MovePrivateRoutes",
            "FenceThisClustersInstances",
            "HoldTheLease",
            "ReadEc2State",
            "WhoAmI",
            "PublishNotifications",
            "PublishMetrics"),
        List.copyOf(bySid.keySet()));
    statements.forEach(s -> assertEquals("Allow", s.get("Effect")));

    // Route writes (the virtual IP's, and NAT egress failover's 0.0.0.0/0): only on the two private
    // route
    // tables, by ARN.
    Map<String, Object> routes = map(bySid.get("MovePrivateRoutes"));
    assertEquals(Set.of("ec2:ReplaceRoute", "ec2:CreateRoute"), actions(routes));
    assertEquals(
        Set.of(
            Map.of("Fn::Sub", ARN_PREFIX + "route-table/${PrivateRouteTableA}"),
            Map.of("Fn::Sub", ARN_PREFIX + "route-table/${PrivateRouteTableB}")),
        Set.copyOf(list(routes.get("Resource"))));
    assertFalse(routes.containsKey("Condition"));

    // Fencing: StopInstances on instances carrying this cluster's tag, nothing else.
    Map<String, Object> fence = map(bySid.get("FenceThisClustersInstances"));
    assertEquals(Set.of("ec2:StopInstances"), actions(fence));
    assertEquals(Map.of("Fn::Sub", ARN_PREFIX + "instance/*"), fence.get("Resource"));
    assertEquals(
        Map.of(
            "StringEquals",
            Map.of("aws:ResourceTag/pgfailover:cluster", Map.of("Ref", "ClusterName"))),
        fence.get("Condition"));

    // The lease: item reads and conditional writes on the stack's lease table only.
    Map<String, Object> lease = map(bySid.get("HoldTheLease"));
    assertEquals(
        Set.of(
            "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"),
        actions(lease));
    assertEquals(Map.of("Fn::GetAtt", List.of("LeaseTable", "Arn")), lease.get("Resource"));
    assertFalse(lease.containsKey("Condition"));

    // Reads that EC2 cannot scope to resources, and who-am-I.
    Map<String, Object> reads = map(bySid.get("ReadEc2State"));
    assertEquals(
        Set.of(
            "ec2:DescribeRouteTables",
            "ec2:DescribeInstances",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeInstanceAttribute",
            "ec2:DescribeVpcs"),
        actions(reads));
    assertEquals("*", reads.get("Resource"));
    Map<String, Object> sts = map(bySid.get("WhoAmI"));
    assertEquals(Set.of("sts:GetCallerIdentity"), actions(sts));
    assertEquals("*", sts.get("Resource"));

    // Notifications: Publish on the stack's topic only.
    Map<String, Object> sns = map(bySid.get("PublishNotifications"));
    assertEquals(Set.of("sns:Publish"), actions(sns));
    assertEquals(Map.of("Ref", "NotificationTopic"), sns.get("Resource"));
    assertFalse(sns.containsKey("Condition"));

    // Metrics: PutMetricData has no resource-level permissions; the namespace condition scopes it.
    Map<String, Object> metrics = map(bySid.get("PublishMetrics"));
    assertEquals(Set.of("cloudwatch:PutMetricData"), actions(metrics));
    assertEquals("*", metrics.get("Resource"));
    assertEquals(NAMESPACE_CONDITION, metrics.get("Condition"));
  }

  private static final Map<String, Object> NAMESPACE_CONDITION =
      Map.of("StringEquals", Map.of("cloudwatch:namespace", Map.of("Ref", "MetricsNamespace")));

  @Test
  void noRolePolicyHasAWildcardActionOrAnUnscopedMutatingAction() {
    for (String role : List.of("ControllerRole", "DbRole")) {
      for (Object policy : list(properties(role).get("Policies"))) {
        for (Object s : list(map(map(policy).get("PolicyDocument")).get("Statement"))) {
          Map<String, Object> statement = map(s);
          String where = role + "/" + map(policy).get("PolicyName") + "/" + statement.get("Sid");
          assertFalse(
              statement.containsKey("NotAction") || statement.containsKey("NotResource"), where);
          for (String action : actions(statement)) {
            assertFalse(action.contains("*"), where + " has a wildcard action " + action);
            boolean readOnly = action.matches("ec2:Describe\\w+|sts:GetCallerIdentity");
            boolean scopedByCondition =
                action.equals("cloudwatch:PutMetricData")
                    && NAMESPACE_CONDITION.equals(statement.get("Condition"));
            if (!readOnly && !scopedByCondition) {
              assertFalse(
                  resources(statement).contains("*"), where + ": " + action + " on Resource \"*\"");
            }
          }
        }
      }
    }
  }

  @Test
  void theControllerRoleHasOnlyTheFailoverPolicyTheBootPolicyAndSessionManager() {
    Map<String, Object> role = properties("ControllerRole");
    assertEquals(
        List.of(
            Map.of(
                "Fn::Sub", "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")),
        role.get("ManagedPolicyArns"));
    List<String> names =
        list(role.get("Policies")).stream().map(p -> (String) map(p).get("PolicyName")).toList();
    assertEquals(List.of("pgfailover-controller", "pgfailover-controller-bootstrap"), names);

    // Boot-time reads, each on one resource: the jar, the database password, the agents' token,
    // this stack's outputs.
    Map<String, Set<String>> bootActions = new LinkedHashMap<>();
    Map<String, Object> bootResources = new LinkedHashMap<>();
    for (Map<String, Object> s : statements("ControllerRole", "pgfailover-controller-bootstrap")) {
      bootActions.put((String) s.get("Sid"), actions(s));
      bootResources.put((String) s.get("Sid"), s.get("Resource"));
    }
    assertEquals(
        Map.of(
            "ReadControllerJar", Set.of("s3:GetObject"),
            "ReadControllerDbPassword", Set.of("secretsmanager:GetSecretValue"),
            "ReadAgentToken", Set.of("secretsmanager:GetSecretValue"),
            "ReadStackOutputs", Set.of("cloudformation:DescribeStacks")),
        bootActions);
    assertEquals(
        Map.of("Ref", "ControllerDbPassword"), bootResources.get("ReadControllerDbPassword"));
    assertEquals(Map.of("Ref", "AgentToken"), bootResources.get("ReadAgentToken"));
    assertEquals(Map.of("Ref", "AWS::StackId"), bootResources.get("ReadStackOutputs"));
    assertEquals(ARTIFACT_OBJECT, bootResources.get("ReadControllerJar"));
  }

  /** The jar's S3 object, as its ARN: both roles may read this one object. */
  private static final Map<String, Object> ARTIFACT_OBJECT =
      Map.of(
          "Fn::Sub",
          List.of(
              "arn:${AWS::Partition}:s3:::${BucketAndKey}",
              Map.of(
                  "BucketAndKey",
                  Map.of(
                      "Fn::Select",
                      List.of(
                          1,
                          Map.of("Fn::Split", List.of("s3://", Map.of("Ref", "ArtifactUrl"))))))));

  @Test
  void theDatabaseRoleReadsOnlyItsSecretsAndTheJarAtBoot() {
    Map<String, Object> role = properties("DbRole");
    assertEquals(
        List.of(
            Map.of(
                "Fn::Sub", "arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore")),
        role.get("ManagedPolicyArns"));
    Map<String, Object> bySid = new LinkedHashMap<>();
    statements("DbRole", "pgfailover-db-bootstrap")
        .forEach(s -> bySid.put((String) s.get("Sid"), s));
    assertEquals(
        List.of("ReadRolePasswordsAndAgentToken", "ReadAgentJar"), List.copyOf(bySid.keySet()));
    Map<String, Object> secrets = map(bySid.get("ReadRolePasswordsAndAgentToken"));
    assertEquals(Set.of("secretsmanager:GetSecretValue"), actions(secrets));
    assertEquals(
        Set.of(
            Map.of("Ref", "ControllerDbPassword"),
            Map.of("Ref", "ReplicationPassword"),
            Map.of("Ref", "AgentToken")),
        Set.copyOf(resources(secrets)));
    Map<String, Object> jar = map(bySid.get("ReadAgentJar"));
    assertEquals(Set.of("s3:GetObject"), actions(jar));
    assertEquals(ARTIFACT_OBJECT, jar.get("Resource"));
  }

  /** The agents' token: the controllers send it, the agents check it; no other role reads it. */
  @Test
  void onlyTheDatabaseRoleAndTheControllerRoleMayReadTheAgentToken() {
    Map<String, Object> token = map(resources().get("AgentToken"));
    assertEquals("AWS::SecretsManager::Secret", token.get("Type"));
    Map<String, Object> generated = map(properties("AgentToken").get("GenerateSecretString"));
    assertEquals("token", generated.get("GenerateStringKey"));
    assertTrue(((Number) generated.get("PasswordLength")).intValue() >= 16, "the agent wants 16+");
    Set<String> readers = new TreeSet<>();
    for (var e : resources().entrySet()) {
      if (!"AWS::IAM::Role".equals(map(e.getValue()).get("Type"))) {
        continue;
      }
      for (Object policy : list(properties(e.getKey()).get("Policies"))) {
        for (Object st : list(map(map(policy).get("PolicyDocument")).get("Statement"))) {
          if (resources(map(st)).contains(Map.of("Ref", "AgentToken"))) {
            readers.add(e.getKey() + "/" + map(st).get("Sid"));
          }
        }
      }
    }
    assertEquals(
        Set.of("ControllerRole/ReadAgentToken", "DbRole/ReadRolePasswordsAndAgentToken"), readers);
    assertEquals(
        Map.of("Ref", "AgentToken"), map(outputs().get("AgentTokenSecretArn")).get("Value"));
  }

  @Test
  void theClusterTagThatScopesFencingIsOnBothDatabaseInstancesAndNotOnTheNatInstances() {
    for (String db : List.of("DbInstanceA", "DbInstanceB")) {
      assertTrue(tags(db).containsKey("pgfailover:cluster"), db);
      assertEquals(Map.of("Ref", "ClusterName"), tags(db).get("pgfailover:cluster"), db);
    }
    for (String nat : List.of("NatInstanceA", "NatInstanceB")) {
      assertFalse(
          tags(nat).containsKey("pgfailover:cluster"),
          nat + " must not be stoppable by the controller");
    }
  }

  @Test
  void theVirtualIpRoutesAndTheWritableRouteTablesAreTheSame() {
    Set<String> routed = new TreeSet<>();
    for (var e : resources().entrySet()) {
      Map<String, Object> r = map(e.getValue());
      Map<String, Object> p = map(r.get("Properties"));
      if ("AWS::EC2::Route".equals(r.get("Type"))
          && Map.of("Fn::Sub", "${VirtualIp}/32").equals(p.get("DestinationCidrBlock"))) {
        routed.add((String) map(p.get("RouteTableId")).get("Ref"));
        assertEquals(
            Map.of("Ref", "DbEniA"),
            p.get("NetworkInterfaceId"),
            e.getKey() + " starts on pg-a's ENI");
      }
    }
    assertEquals(Set.of("PrivateRouteTableA", "PrivateRouteTableB"), routed);
    assertEquals(
        Map.of(
            "Fn::Join",
            List.of(
                ",",
                List.of(Map.of("Ref", "PrivateRouteTableA"), Map.of("Ref", "PrivateRouteTableB")))),
        map(outputs().get("RouteTableIds")).get("Value"));
  }

  @Test
  void everyOutputStackConfigReadsExists() {
    Set<String> missing = new TreeSet<>(StackConfig.requiredOutputs());
    missing.add(StackConfig.LEASE_TABLE_NAME);
    missing.add(StackConfig.NAT_INSTANCE_IDS);
    missing.add(StackConfig.AGENT_PORT);
    missing.removeAll(outputs().keySet());
    assertEquals(Set.of(), missing);
  }

  @Test
  void theLeaseTableIsOnDemandKeyedByClusterAndBothControllersStart() {
    Map<String, Object> table = properties("LeaseTable");
    assertEquals("PAY_PER_REQUEST", table.get("BillingMode"));
    assertEquals(
        List.of(Map.of("AttributeName", "cluster", "KeyType", "HASH")), table.get("KeySchema"));
    assertEquals(
        List.of(Map.of("AttributeName", "cluster", "AttributeType", "S")),
        table.get("AttributeDefinitions"));
    String script = bootScript("NatLaunchTemplate");
    assertTrue(
        script.contains("\nsystemctl enable pgfailover.service\n"),
        "enabled on every NAT/control instance, not only in one AZ");
    assertFalse(script.contains("if [ \"$AZ\" = "), "no AZ decides which controller runs");
    assertTrue(script.contains("--this-instance \"$SELF\""), "each config names its own instance");
    // A then B in both lists: StackConfig pairs NatInstanceIds[i] with RouteTableIds[i].
    assertEquals(
        Map.of(
            "Fn::Join",
            List.of(",", List.of(Map.of("Ref", "NatInstanceA"), Map.of("Ref", "NatInstanceB")))),
        map(outputs().get("NatInstanceIds")).get("Value"));
  }

  @Test
  void eachBootScriptEmbedsTheRepositorysSystemdUnitVerbatim() throws IOException {
    assertEquals(
        Files.readString(REPO.resolve("scripts/systemd/pgfailover.service")),
        heredoc(bootScript("NatLaunchTemplate"), "<<'UNIT'"));
    assertEquals(
        Files.readString(REPO.resolve("scripts/systemd/pgfailover-agent.service")),
        heredoc(databaseBootScript(), "<<'UNIT'"));
    assertTrue(
        databaseBootScript().contains("\nsystemctl enable --now pgfailover-agent.service\n"),
        "both PostgreSQL instances start their agent");
  }

  @Test
  void theDatabaseBootScriptAppliesTheRepositorysRolesFileVerbatim() throws IOException {
    String script = databaseBootScript();
    assertEquals(Files.readString(REPO.resolve("config/roles.sql")), heredoc(script, "<<'SQL'"));
    assertTrue(
        script.contains("cat /etc/pgfailover/roles.sql; } | sudo -u postgres psql"),
        "and pipes exactly that file to psql");
  }

  /**
   * Issue 10, item 5: sudo logs the command line and the environment it sets, and /proc shows argv:
   * a secret is only ever written by secret_value (its JSON goes through a pipe) into a file made
   * under umask 077, and from there copied by install or read by the shell's own printf.
   */
  @Test
  void noSecretReachesACommandLineAVariableOrAnEnvironmentInTheBootScripts() {
    for (String lt : List.of("NatLaunchTemplate", "DbLaunchTemplate")) {
      String script = bootScript(lt);
      assertFalse(script.contains("PGPASSWORD"), lt + ": no PGPASSWORD=... through sudo");
      assertFalse(script.contains("psql -v controller_pw"), lt + ": no psql -v password");
      assertFalse(script.contains("get-secret-value"), lt + ": only through secret_value");
      int calls = 0;
      for (String line : script.split("\n")) {
        String code = line.strip();
        if (code.startsWith("#")) {
          continue;
        }
        assertFalse(code.matches(".*_PW=.*"), lt + ": a secret in a variable: " + code);
        if (code.contains("secret_value '")) {
          calls++;
          assertTrue(
              code.matches(
                  "secret_value '\\$\\{[A-Za-z]+}' (password|token) >/etc/pgfailover/[a-z-]+\\)?"),
              lt + ": a secret anywhere but a file in /etc/pgfailover: " + code);
        }
      }
      assertTrue(calls >= 2, lt + " reads its secrets");
      int umask = script.indexOf("umask 077");
      assertTrue(
          umask >= 0 && umask < script.indexOf("secret_value '"),
          lt + ": the files are made owner-only");
    }
    assertTrue(
        functions().contains("python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin)"),
        "secret_value hands the secret's JSON on through a pipe");
  }

  /**
   * pg_rewind, which the agent's rejoin runs, needs hint bits in WAL and the old primary's WAL back
   * to its last checkpoint; the controller knows a synchronous standby by application_name.
   */
  @Test
  void postgresqlIsSetUpForRewindAndTheStandbyNamesItself() {
    String script = databaseBootScript();
    Map<String, String> conf = new LinkedHashMap<>();
    for (String line : heredoc(script, "cat >>$PGDATA/postgresql.conf <<'EOF'").split("\n")) {
      String[] kv = line.split("=", 2);
      if (!line.startsWith("#") && kv.length == 2) {
        conf.put(kv[0].strip(), kv[1].strip().replace("'", ""));
      }
    }
    assertEquals("on", conf.get("wal_log_hints"));
    assertTrue(script.contains("PGSETUP_INITDB_OPTIONS=\"--data-checksums\""), "and checksums");
    assertTrue(
        megabytes(conf.get("wal_keep_size")) >= megabytes(conf.get("max_wal_size")),
        "wal_keep_size >= max_wal_size: " + conf);
    assertTrue(
        script.contains(
            "pg_basebackup -h \"$PRIMARY_IP\" -U replicator -d \"application_name=$NODE\""),
        "the standby's primary_conninfo carries its node name");
    assertTrue(script.contains(" -X stream -R "), "written by pg_basebackup -R");
    assertEquals("pg-a", map(outputs().get("NodeAName")).get("Value"));
    assertEquals("pg-b", map(outputs().get("NodeBName")).get("Value"));
    assertTrue(
        script.contains(
            "if [ \"$AZ\" = \"${AvailabilityZoneA}\" ]; then NODE=pg-a; else NODE=pg-b; fi"),
        "the node names of the outputs, by AZ as the primary is chosen");
  }

  private static long megabytes(String size) {
    var m = Pattern.compile("(\\d+)(MB|GB)").matcher(size);
    assertTrue(m.matches(), size);
    return Long.parseLong(m.group(1)) * (m.group(2).equals("GB") ? 1024 : 1);
  }

  /** The agent.yaml the boot script writes, as the agent will load it on pg-b. */
  @Test
  void theAgentConfigTheBootScriptWritesIsValidAndMatchesTheStack() throws Exception {
    String script = databaseBootScript();
    assertTrue(script.contains("\nPGDATA=/var/lib/pgsql/data\n"), "the data directory");
    assertTrue(script.contains("/latest/meta-data/local-ipv4)\n"), "the private address");
    String yaml =
        heredoc(script, "cat >/etc/pgfailover/agent.yaml <<EOF")
            .replace("$NODE", "pg-b")
            .replace("$LOCAL_IP", "10.20.11.10")
            .replace("$PGDATA", "/var/lib/pgsql/data");
    assertFalse(yaml.contains("$"), "every shell variable in it is known here: " + yaml);
    AgentConfig agent = AgentConfigLoader.parse(yaml, "agent.yaml");
    assertEquals("pg-b", agent.node());
    assertEquals("10.20.11.10", agent.listen().getHostString());
    assertEquals(
        Integer.parseInt((String) map(outputs().get("AgentPort")).get("Value")),
        agent.listen().getPort(),
        "listens where config from-stack sends the controllers");
    assertEquals(Path.of(StackConfig.AGENT_TOKEN_FILE), agent.tokenFile());
    assertEquals(Path.of("/var/lib/pgsql/data"), agent.postgres().dataDirectory());
    assertEquals(AgentConfig.Service.SYSTEMD, agent.postgres().service());
    assertEquals("postgresql", agent.postgres().unit(), "Amazon Linux 2023's unit");
    assertEquals("10.20.11.10", agent.postgres().host(), "pg_hba.conf asks 127.0.0.1 for ident");
    assertEquals("pgfailover", agent.postgres().local().user());
    assertEquals(
        new PasswordConfig(PasswordConfig.Kind.FILE, StackConfig.DEFAULT_PASSWORD_FILE),
        agent.postgres().local().password());
    assertEquals("replicator", agent.replication().user());
    assertEquals(
        Path.of("/etc/pgfailover/replication-password"), agent.replication().passwordFile());
    assertEquals(
        new AgentConfig.Witness(Duration.ofMillis(250), Duration.ofSeconds(1)), agent.witness());
    for (String file : List.of("pg-password", "replication-password", "agent-token")) {
      assertTrue(
          script.contains(" >/etc/pgfailover/" + file + "\n")
              || script.contains(" >/etc/pgfailover/" + file + ")\n"),
          "the boot script writes /etc/pgfailover/" + file);
    }
    assertTrue(
        bootScript("NatLaunchTemplate")
            .contains("secret_value '${AgentToken}' token >" + StackConfig.AGENT_TOKEN_FILE + "\n"),
        "the controllers hold the same token where config from-stack points them");
  }

  /** The agent can stop and overwrite the database: its port is open to the controllers alone. */
  @Test
  void onlyTheControllersReachTheNodeAgentsPort() {
    int port = Integer.parseInt((String) map(outputs().get("AgentPort")).get("Value"));
    for (String eni : List.of("DbEniA", "DbEniB")) {
      assertEquals(List.of(Map.of("Ref", "DbSecurityGroup")), properties(eni).get("GroupSet"), eni);
    }
    // Every ingress rule of the database instances' group: inline, and separate resources.
    List<Object> ingress =
        new ArrayList<>(list(properties("DbSecurityGroup").get("SecurityGroupIngress")));
    for (var e : resources().entrySet()) {
      if ("AWS::EC2::SecurityGroupIngress".equals(map(e.getValue()).get("Type"))
          && Map.of("Ref", "DbSecurityGroup").equals(properties(e.getKey()).get("GroupId"))) {
        ingress.add(properties(e.getKey()));
      }
    }
    List<Object> reachingTheAgent = new ArrayList<>();
    for (Object i : ingress) {
      Map<String, Object> rule = map(i);
      boolean allTraffic = "-1".equals(rule.get("IpProtocol"));
      boolean covers =
          ((Number) rule.get("FromPort")).intValue() <= port
              && port <= ((Number) rule.get("ToPort")).intValue();
      if (allTraffic || covers) {
        reachingTheAgent.add(
            rule.get("IpProtocol")
                + " "
                + rule.get("SourceSecurityGroupId")
                + " "
                + rule.get("CidrIp"));
      }
    }
    assertEquals(List.of("tcp {Ref=ControllerSecurityGroup} null"), reachingTheAgent);
  }

  /** Issue 14: the alarms on the controllers' metrics (README, Deploy), all to the topic. */
  @Test
  void theAlarmsWatchTheControllersMetricsAndNotifyTheTopic() {
    record Alarm(
        String metric, String statistic, String comparison, Object threshold, String missing) {}
    Map<String, Alarm> expected =
        Map.of(
            "UnhealthyAlarm",
            new Alarm("Healthy", "Minimum", "LessThanThreshold", 1, "notBreaching"),
            "FailoverAlarm",
            new Alarm("Failovers", "Sum", "GreaterThanOrEqualToThreshold", 1, "notBreaching"),
            "ControllerDownAlarm",
            new Alarm("Healthy", "SampleCount", "LessThanThreshold", 1, "breaching"),
            "ReplicationLagAlarm",
            new Alarm(
                "ReplicationLagBytes",
                "Maximum",
                "GreaterThanThreshold",
                Map.of("Ref", "LagAlarmBytes"),
                "notBreaching"));
    Map<String, Alarm> actual = new LinkedHashMap<>();
    for (var e : resources().entrySet()) {
      if (!"AWS::CloudWatch::Alarm".equals(map(e.getValue()).get("Type"))) {
        continue;
      }
      Map<String, Object> a = properties(e.getKey());
      actual.put(
          e.getKey(),
          new Alarm(
              (String) a.get("MetricName"),
              (String) a.get("Statistic"),
              (String) a.get("ComparisonOperator"),
              a.get("Threshold"),
              (String) a.get("TreatMissingData")));
      assertEquals(Map.of("Ref", "MetricsNamespace"), a.get("Namespace"), e.getKey());
      assertEquals(
          List.of(Map.of("Name", "Cluster", "Value", Map.of("Ref", "ClusterName"))),
          a.get("Dimensions"),
          e.getKey());
      assertEquals(60, a.get("Period"), e.getKey() + ": the controller publishes every 60 s");
      assertEquals(List.of(Map.of("Ref", "NotificationTopic")), a.get("AlarmActions"), e.getKey());
    }
    assertEquals(expected, actual);
    assertEquals(
        Map.of("Ref", "UnhealthyMinutes"), properties("UnhealthyAlarm").get("EvaluationPeriods"));
    assertEquals(3, properties("ControllerDownAlarm").get("EvaluationPeriods"));
    assertEquals(2, map(map(template.get("Parameters")).get("UnhealthyMinutes")).get("Default"));
    assertEquals(
        64 * 1024 * 1024, map(map(template.get("Parameters")).get("LagAlarmBytes")).get("Default"));
    assertEquals(
        "PgFailover", map(map(template.get("Parameters")).get("MetricsNamespace")).get("Default"));

    // The topic, its optional e-mail subscription, and the outputs the controllers' config reads.
    assertEquals("AWS::SNS::Topic", map(resources().get("NotificationTopic")).get("Type"));
    Map<String, Object> subscription = map(resources().get("NotificationEmailSubscription"));
    assertEquals("HasNotificationEmail", subscription.get("Condition"));
    assertEquals(
        Map.of("Ref", "NotificationEmail"),
        properties("NotificationEmailSubscription").get("Endpoint"));
    assertEquals("", map(map(template.get("Parameters")).get("NotificationEmail")).get("Default"));
    assertEquals(
        Map.of("Ref", "NotificationTopic"),
        map(outputs().get("NotificationTopicArn")).get("Value"));
    assertEquals(
        Map.of("Ref", "MetricsNamespace"), map(outputs().get("MetricsNamespace")).get("Value"));
  }

  /**
   * EC2 takes at most 16 KB of user data before base64: each boot script with the shared steps
   * stays under 15 KiB, leaving 1 KiB for the values CloudFormation substitutes (the jar's URL).
   */
  @Test
  void eachBootScriptWithItsSharedStepsFitsEc2sUserDataLimit() {
    for (String lt : List.of("NatLaunchTemplate", "DbLaunchTemplate")) {
      String script = bootScript(lt).replace("${BootFunctions}", functions());
      int bytes = script.getBytes(StandardCharsets.UTF_8).length;
      assertTrue(bytes < 15 * 1024, lt + " is " + bytes + " bytes");
    }
  }

  private static String databaseBootScript() {
    return bootScript("DbLaunchTemplate");
  }

  /** A launch template's boot script as written, before CloudFormation substitutes anything. */
  static String bootScript(Map<String, Object> template, String launchTemplate) {
    Map<String, Object> resource = map(map(template.get("Resources")).get(launchTemplate));
    Map<String, Object> data = map(map(resource.get("Properties")).get("LaunchTemplateData"));
    Object sub = map(map(data.get("UserData")).get("Fn::Base64")).get("Fn::Sub");
    if (sub instanceof List<?> l) {
      assertEquals(
          Map.of("Fn::FindInMap", List.of("BootSteps", "Shell", "Functions")),
          map(l.get(1)).get("BootFunctions"),
          launchTemplate + " inserts the shared boot steps");
      return (String) l.get(0);
    }
    return (String) sub;
  }

  /** The shell functions both boot scripts share (Mappings: BootSteps, Shell, Functions). */
  static String functions(Map<String, Object> template) {
    return (String)
        map(map(map(template.get("Mappings")).get("BootSteps")).get("Shell")).get("Functions");
  }

  private static String bootScript(String launchTemplate) {
    return bootScript(template, launchTemplate);
  }

  private static String functions() {
    return functions(template);
  }

  /** The body of the here-document that {@code opening} starts, up to its delimiter line. */
  private static String heredoc(String script, String opening) {
    String delimiter = opening.replaceAll(".*<<'?(\\w+)'?$", "$1");
    int start = script.indexOf(opening + "\n");
    assertTrue(start >= 0, "the boot script has " + opening);
    start += opening.length() + 1;
    int end = script.indexOf("\n" + delimiter + "\n", start);
    assertTrue(end > start, opening + " ends with " + delimiter);
    return script.substring(start, end + 1);
  }

  @Test
  void everyInstanceRequiresImdsV2AndEveryDatabaseEniHasSourceDestCheckOff() {
    for (String lt : List.of("NatLaunchTemplate", "DbLaunchTemplate")) {
      Map<String, Object> metadata =
          map(map(properties(lt).get("LaunchTemplateData")).get("MetadataOptions"));
      assertEquals("required", metadata.get("HttpTokens"), lt);
    }
    for (String instance : List.of("NatInstanceA", "NatInstanceB", "DbInstanceA", "DbInstanceB")) {
      Map<String, Object> lt = map(properties(instance).get("LaunchTemplate"));
      assertTrue(
          Set.of("NatLaunchTemplate", "DbLaunchTemplate")
              .contains(map(lt.get("LaunchTemplateId")).get("Ref")),
          instance);
      Map<String, Object> eni = map(list(properties(instance).get("NetworkInterfaces")).get(0));
      assertEquals(
          "0", eni.get("DeviceIndex"), instance + " takes its ENI as the primary interface");
      String eniName = (String) map(eni.get("NetworkInterfaceId")).get("Ref");
      assertEquals(false, properties(eniName).get("SourceDestCheck"), eniName);
    }
  }

  // ------------------------------------------------------------------ template access

  private static Map<String, Object> resources() {
    return map(template.get("Resources"));
  }

  private static Map<String, Object> outputs() {
    return map(template.get("Outputs"));
  }

  private static Map<String, Object> properties(String logicalId) {
    Object resource = resources().get(logicalId);
    assertTrue(resource != null, "no resource " + logicalId + " in the template");
    return map(map(resource).get("Properties"));
  }

  private static List<Map<String, Object>> statements(String role, String policyName) {
    for (Object p : list(properties(role).get("Policies"))) {
      if (policyName.equals(map(p).get("PolicyName"))) {
        List<Map<String, Object>> out = new ArrayList<>();
        list(map(map(p).get("PolicyDocument")).get("Statement")).forEach(s -> out.add(map(s)));
        return out;
      }
    }
    throw new AssertionError("role " + role + " has no policy " + policyName);
  }

  private static Map<String, Object> tags(String logicalId) {
    Map<String, Object> tags = new LinkedHashMap<>();
    list(properties(logicalId).get("Tags"))
        .forEach(t -> tags.put((String) map(t).get("Key"), map(t).get("Value")));
    return tags;
  }

  private static Set<String> actions(Map<String, Object> statement) {
    Object a = statement.get("Action");
    Set<String> out = new TreeSet<>();
    if (a instanceof String s) {
      out.add(s);
    } else {
      list(a).forEach(x -> out.add((String) x));
    }
    return out;
  }

  private static List<Object> resources(Map<String, Object> statement) {
    Object r = statement.get("Resource");
    return r instanceof List<?> ? list(r) : List.of(r);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertTrue(o instanceof Map, "expected a mapping, got " + o);
    return (Map<String, Object>) o;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    assertTrue(o instanceof List, "expected a list, got " + o);
    return (List<Object>) o;
  }

  /**
   * Reads CloudFormation's short-form intrinsics as their long form: {@code !Ref X} becomes {@code
   * {Ref: X}}, {@code !Sub s} becomes {@code {Fn::Sub: s}}, {@code !GetAtt A.B} becomes {@code
   * {Fn::GetAtt: [A, B]}}.
   */
  static final class CfnConstructor extends SafeConstructor {
    private static final List<String> FUNCTIONS =
        List.of(
            "Base64",
            "Cidr",
            "Equals",
            "FindInMap",
            "GetAZs",
            "If",
            "ImportValue",
            "Join",
            "Not",
            "And",
            "Or",
            "Select",
            "Split",
            "Sub",
            "Transform",
            "Contains",
            "EachMemberEquals",
            "EachMemberIn",
            "ValueOf",
            "ValueOfAll",
            "RefAll",
            "Length",
            "ToJsonString");

    CfnConstructor() {
      super(new LoaderOptions());
      yamlConstructors.put(new Tag("!Ref"), new Intrinsic("Ref"));
      yamlConstructors.put(new Tag("!Condition"), new Intrinsic("Condition"));
      yamlConstructors.put(
          new Tag("!GetAtt"),
          new AbstractConstruct() {
            @Override
            public Object construct(Node node) {
              if (node instanceof ScalarNode s) {
                String[] parts = s.getValue().split("\\.", 2);
                return Map.of("Fn::GetAtt", List.of(parts[0], parts[1]));
              }
              return Map.of("Fn::GetAtt", constructSequence((SequenceNode) node));
            }
          });
      for (String f : FUNCTIONS) {
        yamlConstructors.put(new Tag("!" + f), new Intrinsic("Fn::" + f));
      }
    }

    private final class Intrinsic extends AbstractConstruct {
      private final String key;

      Intrinsic(String key) {
        this.key = key;
      }

      @Override
      public Object construct(Node node) {
        Object value;
        if (node instanceof ScalarNode s) {
          value = constructScalar(s);
        } else if (node instanceof SequenceNode seq) {
          value = constructSequence(seq);
        } else {
          value = constructMapping((MappingNode) node);
        }
        return Map.of(key, value);
      }
    }
  }
}
