package io.pgfailover.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.StackConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
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
 * least-privilege set of issue 5, nothing more. Also checks the template against the code that
 * depends on it (the systemd unit it embeds, the outputs StackConfig reads).
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
            "WhoAmI"),
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
  }

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
            if (!readOnly) {
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

    // Boot-time reads, each on one resource: the jar, the database password, this stack's outputs.
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
            "ReadStackOutputs", Set.of("cloudformation:DescribeStacks")),
        bootActions);
    assertEquals(
        Map.of("Ref", "ControllerDbPassword"), bootResources.get("ReadControllerDbPassword"));
    assertEquals(Map.of("Ref", "AWS::StackId"), bootResources.get("ReadStackOutputs"));
    assertEquals(
        List.of(
            "arn:${AWS::Partition}:s3:::${BucketAndKey}",
            Map.of(
                "BucketAndKey",
                Map.of(
                    "Fn::Select",
                    List.of(
                        1, Map.of("Fn::Split", List.of("s3://", Map.of("Ref", "ArtifactUrl"))))))),
        map(bootResources.get("ReadControllerJar")).get("Fn::Sub"));
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
    Map<String, Object> data = map(properties("NatLaunchTemplate").get("LaunchTemplateData"));
    String script = (String) map(map(data.get("UserData")).get("Fn::Base64")).get("Fn::Sub");
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
  void theNatBootScriptEmbedsTheRepositorysSystemdUnitVerbatim() throws IOException {
    Map<String, Object> data = map(properties("NatLaunchTemplate").get("LaunchTemplateData"));
    String script = (String) map(map(data.get("UserData")).get("Fn::Base64")).get("Fn::Sub");
    int start = script.indexOf("<<'UNIT'\n") + "<<'UNIT'\n".length();
    int end = script.indexOf("\nUNIT\n", start);
    assertTrue(
        start > "<<'UNIT'\n".length() && end > start,
        "the boot script writes the unit with a <<'UNIT' heredoc");
    assertEquals(
        Files.readString(REPO.resolve("scripts/systemd/pgfailover.service")),
        script.substring(start, end + 1));
  }

  @Test
  void theDatabaseBootScriptAppliesTheRepositorysRolesFileVerbatim() throws IOException {
    String script = databaseBootScript();
    int start = script.indexOf("<<'SQL'\n") + "<<'SQL'\n".length();
    int end = script.indexOf("\nSQL\n", start);
    assertTrue(
        start > "<<'SQL'\n".length() && end > start,
        "the boot script writes config/roles.sql with a <<'SQL' heredoc");
    assertEquals(
        Files.readString(REPO.resolve("config/roles.sql")), script.substring(start, end + 1));
    assertTrue(
        script.contains("cat /etc/pgfailover/roles.sql; } | sudo -u postgres psql"),
        "and pipes exactly that file to psql");
  }

  /**
   * Issue 10, item 5: sudo logs the command line and the environment it sets, and /proc shows argv:
   * a password must only ever be written by the shell's own printf into a 0600 file.
   */
  @Test
  void noPasswordReachesACommandLineOrAnEnvironmentInTheDatabaseBootScript() {
    String script = databaseBootScript();
    assertFalse(script.contains("PGPASSWORD"), "no PGPASSWORD=... through sudo");
    assertFalse(script.contains("psql -v controller_pw"), "no password as a psql -v argument");
    for (String line : script.split("\n")) {
      String code = line.strip();
      if (code.contains("_PW") && !code.startsWith("#")) {
        boolean fetched = code.matches("[A-Z]+_PW=\\$\\(secret '\\$\\{[A-Za-z]+}'\\)");
        boolean builtinWrite =
            code.matches(
                "(\\(umask 077; )?printf '[^']*' \"\\$[A-Z]+_PW\""
                    + " >\"\\$[A-Z_/]+[a-z_/]*\"\\)?\\)?");
        assertTrue(fetched || builtinWrite, "a password on a command line: " + code);
      }
    }
  }

  private static String databaseBootScript() {
    Map<String, Object> data = map(properties("DbLaunchTemplate").get("LaunchTemplateData"));
    Object sub = map(map(data.get("UserData")).get("Fn::Base64")).get("Fn::Sub");
    return (String) (sub instanceof List<?> l ? l.get(0) : sub);
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
