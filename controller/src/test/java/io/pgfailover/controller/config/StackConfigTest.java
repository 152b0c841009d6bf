package io.pgfailover.controller.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class StackConfigTest {

  /** Outputs as cloudformation/pgfailover.yaml names them, with made-up ids. */
  static Map<String, String> outputs() {
    Map<String, String> o = new HashMap<>();
    o.put("ClusterName", "orders-db");
    o.put("Region", "eu-west-1");
    o.put("VirtualIp", "192.168.255.10/32");
    o.put("RouteTableIds", "rtb-0123456789abcdef0,rtb-0123456789abcdef1");
    o.put("DatabaseUser", "pgfailover");
    o.put("DatabaseName", "postgres");
    o.put("NodeAName", "pg-a");
    o.put("NodeAInstanceId", "i-0123456789abcdef0");
    o.put("NodeAEniId", "eni-0123456789abcdef0");
    o.put("NodeAPrivateIp", "10.20.10.10");
    o.put("NodeBName", "pg-b");
    o.put("NodeBInstanceId", "i-0123456789abcdef1");
    o.put("NodeBEniId", "eni-0123456789abcdef1");
    o.put("NodeBPrivateIp", "10.20.11.10");
    o.put("VpcId", "vpc-0123456789abcdef0"); // outputs the config does not need are ignored
    return o;
  }

  @Test
  void rendersAConfigTheLoaderAcceptsWithEverythingFromTheOutputs() throws Exception {
    String yaml = StackConfig.render("orders", outputs(), StackConfig.Options.defaults());
    ControllerConfig c = ConfigLoader.parse(yaml, "rendered");

    assertEquals("orders-db", c.cluster());
    assertEquals("eu-west-1", c.aws().region());
    assertEquals(Optional.empty(), c.aws().endpoint());
    assertEquals("192.168.255.10/32", c.virtualIp());
    assertEquals(List.of("rtb-0123456789abcdef0", "rtb-0123456789abcdef1"), c.routeTables());
    assertEquals(false, c.createRouteIfMissing());
    assertEquals(2, c.nodes().size());
    NodeConfig a = c.nodes().get(0);
    assertEquals(
        new NodeConfig(
            "pg-a",
            "i-0123456789abcdef0",
            "eni-0123456789abcdef0",
            "10.20.10.10",
            5432,
            "postgres",
            "pgfailover",
            new PasswordConfig(PasswordConfig.Kind.FILE, "/etc/pgfailover/pg-password"),
            Map.of(),
            java.util.Optional.empty()),
        a);
    NodeConfig b = c.nodes().get(1);
    assertEquals("pg-b", b.name());
    assertEquals("eni-0123456789abcdef1", b.eniId());
    assertEquals("10.20.11.10", b.host());
    assertEquals(FailoverPolicy.Fencing.NONE, c.failover().fencing());
    assertTrue(c.failover().automatic());
    assertEquals("127.0.0.1", c.admin().listen().getHostString());
    assertEquals(
        Optional.of(java.nio.file.Path.of("/etc/pgfailover/admin-token")), c.admin().tokenFile());
    assertTrue(yaml.startsWith("# pgfailover controller configuration"), yaml);
    assertTrue(yaml.contains("CloudFormation stack orders."), yaml);
  }

  @Test
  void theStacksTopicAndMetricsNamespaceFillNotifyAndCloudWatch() throws Exception {
    Map<String, String> o = outputs();
    assertEquals(
        NotifyConfig.NONE,
        ConfigLoader.parse(StackConfig.render("orders", o, StackConfig.Options.defaults()), "r")
            .notifications(),
        "a stack without the outputs: no channel");
    o.put("NotificationTopicArn", "arn:aws:sns:eu-west-1:123456789012:orders-db-pgfailover");
    o.put("MetricsNamespace", "PgFailover");
    String yaml = StackConfig.render("orders", o, StackConfig.Options.defaults());
    ControllerConfig c = ConfigLoader.parse(yaml, "rendered");
    assertEquals(
        Optional.of("arn:aws:sns:eu-west-1:123456789012:orders-db-pgfailover"),
        c.notifications().snsTopicArn());
    assertEquals(Optional.of("PgFailover"), c.cloudWatch().map(CloudWatchConfig::namespace));
    assertEquals(
        CloudWatchConfig.DEFAULT_INTERVAL, c.cloudWatch().get().interval(), "the default interval");
  }

  @Test
  void carriesTheChosenPasswordSourceEndpointAndFencing() throws Exception {
    var options =
        new StackConfig.Options(
            new PasswordConfig(PasswordConfig.Kind.ENV, "PGFAILOVER_PG_PASSWORD"),
            Optional.of(URI.create("http://127.0.0.1:5000")),
            FailoverPolicy.Fencing.STOP_INSTANCE);
    ControllerConfig c =
        ConfigLoader.parse(StackConfig.render("s", outputs(), options), "rendered");
    assertEquals(
        new PasswordConfig(PasswordConfig.Kind.ENV, "PGFAILOVER_PG_PASSWORD"),
        c.nodes().get(1).password());
    assertEquals(Optional.of(URI.create("http://127.0.0.1:5000")), c.aws().endpoint());
    assertEquals(FailoverPolicy.Fencing.STOP_INSTANCE, c.failover().fencing());

    var pgpass =
        new StackConfig.Options(
            new PasswordConfig(PasswordConfig.Kind.PGPASS, ""),
            Optional.empty(),
            FailoverPolicy.Fencing.NONE);
    assertEquals(
        PasswordConfig.Kind.PGPASS,
        ConfigLoader.parse(StackConfig.render("s", outputs(), pgpass), "r")
            .nodes()
            .get(0)
            .password()
            .kind());
  }

  @Test
  void namesEveryMissingOutputAtOnce() {
    Map<String, String> o = outputs();
    o.remove("VirtualIp");
    o.put("NodeBEniId", " ");
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> StackConfig.render("orders", o, StackConfig.Options.defaults()));
    assertEquals(
        List.of(
            "stack orders outputs: VirtualIp: is missing. Fix: wait until the stack is"
                + " CREATE_COMPLETE or UPDATE_COMPLETE, and check it was made from"
                + " cloudformation/pgfailover.yaml",
            "stack orders outputs: NodeBEniId: is missing. Fix: wait until the stack is"
                + " CREATE_COMPLETE or UPDATE_COMPLETE, and check it was made from"
                + " cloudformation/pgfailover.yaml"),
        e.errors().stream().map(ConfigError::toString).toList());
  }

  @Test
  void refusesOutputsTheLoaderWouldReject() {
    Map<String, String> o = outputs();
    o.put("NodeAEniId", "not-an-eni");
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> StackConfig.render("orders", o, StackConfig.Options.defaults()));
    assertEquals(1, e.errors().size(), e::getMessage);
    assertEquals("nodes[0].eniId", e.errors().get(0).path());
    assertTrue(e.errors().get(0).source().contains("stack orders outputs"), e::getMessage);
  }

  @Test
  void requiredOutputsNameTheClusterTheVirtualIpTheRouteTablesAndFourFieldsPerNode() {
    List<String> keys = StackConfig.requiredOutputs();
    assertEquals(6 + 2 * 4, keys.size());
    assertTrue(
        keys.containsAll(
            List.of(
                "ClusterName",
                "Region",
                "VirtualIp",
                "RouteTableIds",
                "NodeAEniId",
                "NodeBPrivateIp")),
        keys::toString);
  }

  @Test
  void aPairStackRendersTheLeaseAndThePeerNatForThisInstance() throws Exception {
    Map<String, String> o = outputs();
    o.put("LeaseTableName", "orders-db-LeaseTable-ABC123");
    o.put("NatInstanceIds", "i-0aaaaaaaaaaaaaaa0,i-0bbbbbbbbbbbbbbb0");
    var options =
        new StackConfig.Options(
            new PasswordConfig(PasswordConfig.Kind.PGPASS, ""),
            Optional.empty(),
            FailoverPolicy.Fencing.NONE,
            Optional.of("i-0bbbbbbbbbbbbbbb0"));
    ControllerConfig c = ConfigLoader.parse(StackConfig.render("orders", o, options), "rendered");
    assertEquals("orders-db-LeaseTable-ABC123", c.lease().orElseThrow().table());
    assertEquals("i-0bbbbbbbbbbbbbbb0", c.lease().get().controller());
    assertEquals(LeaseConfig.DEFAULT_DURATION, c.lease().get().duration());
    NatConfig nat = c.nat().orElseThrow();
    assertEquals("i-0bbbbbbbbbbbbbbb0", nat.instanceId());
    assertEquals("i-0aaaaaaaaaaaaaaa0", nat.peerInstanceId());
    assertEquals(
        List.of("rtb-0123456789abcdef0"),
        nat.peerRouteTables(),
        "the peer (A) AZ's private route table");

    var stranger =
        new StackConfig.Options(
            new PasswordConfig(PasswordConfig.Kind.PGPASS, ""),
            Optional.empty(),
            FailoverPolicy.Fencing.NONE,
            Optional.of("i-0ccccccccccccccc0"));
    ConfigException e =
        assertThrows(ConfigException.class, () -> StackConfig.render("orders", o, stranger));
    assertTrue(
        e.getMessage().contains("NatInstanceIds: does not list this instance i-0ccccccccccccccc0"),
        e.getMessage());
  }

  @Test
  void aStackWithNodeAgentsRendersEachNodesAgentOnItsPrivateAddressAndAutomaticRejoin()
      throws Exception {
    Map<String, String> o = outputs();
    o.put("AgentPort", "8009");
    String yaml = StackConfig.render("orders", o, StackConfig.Options.defaults());
    ControllerConfig c = ConfigLoader.parse(yaml, "rendered");
    assertEquals(
        List.of(
            Optional.of(
                new AgentEndpoint(
                    URI.create("http://10.20.10.10:8009"),
                    java.nio.file.Path.of("/etc/pgfailover/agent-token"))),
            Optional.of(
                new AgentEndpoint(
                    URI.create("http://10.20.11.10:8009"),
                    java.nio.file.Path.of("/etc/pgfailover/agent-token")))),
        c.nodes().stream().map(NodeConfig::agent).toList());
    assertEquals(ControllerConfig.RejoinMode.AUTOMATIC, c.rejoin());
    assertTrue(yaml.contains("\nrejoin: automatic\n"), yaml);
  }

  @Test
  void aStackWithoutNodeAgentsRendersNoAgentAndManualRejoin() throws Exception {
    String yaml = StackConfig.render("orders", outputs(), StackConfig.Options.defaults());
    ControllerConfig c = ConfigLoader.parse(yaml, "rendered");
    assertTrue(c.nodes().stream().allMatch(n -> n.agent().isEmpty()), yaml);
    assertEquals(ControllerConfig.RejoinMode.MANUAL, c.rejoin());
    assertTrue(!yaml.contains("agent") && !yaml.contains("rejoin"), yaml);
  }

  @Test
  void aStackWithoutTheLeaseTableRendersASingleController() throws Exception {
    ControllerConfig c =
        ConfigLoader.parse(
            StackConfig.render("orders", outputs(), StackConfig.Options.defaults()), "rendered");
    assertTrue(c.lease().isEmpty());
    assertTrue(c.nat().isEmpty());
  }
}
