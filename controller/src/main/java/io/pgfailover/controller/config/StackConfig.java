package io.pgfailover.controller.config;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The controller's YAML, rendered from the outputs of the pgfailover CloudFormation stack ({@code
 * cloudformation/pgfailover.yaml}). Pure: {@code failoverctl config from-stack} reads the outputs
 * and writes the file; this class only turns outputs into a configuration that {@link ConfigLoader}
 * accepts.
 *
 * <p>Probe timing is left out on purpose: the loader's defaults (1 s interval, 3 failures) apply,
 * and an operator tunes them in the file. Everything the stack knows (ids, addresses, names) comes
 * from the outputs.
 */
public final class StackConfig {
  // Output keys of cloudformation/pgfailover.yaml. Renaming one there means renaming it here, and
  // the
  // template test (CloudFormationPolicyTest) checks that every key below is an output of the
  // template.
  public static final String CLUSTER_NAME = "ClusterName";
  public static final String REGION = "Region";
  public static final String VIRTUAL_IP = "VirtualIp";
  public static final String ROUTE_TABLE_IDS = "RouteTableIds";
  public static final String DATABASE_USER = "DatabaseUser";
  public static final String DATABASE_NAME = "DatabaseName";

  /**
   * Optional: a stack without them (made before the controller pair) renders a single-controller
   * config.
   */
  public static final String LEASE_TABLE_NAME = "LeaseTableName";

  /** The stack's SNS topic for notifications: {@code notify.sns.topicArn}. */
  public static final String NOTIFICATION_TOPIC_ARN = "NotificationTopicArn";

  /** The namespace the stack's CloudWatch alarms watch: {@code cloudwatch.namespace}. */
  public static final String METRICS_NAMESPACE = "MetricsNamespace";

  /** Optional: the NAT/control instances, A then B, in the order of {@link #ROUTE_TABLE_IDS}. */
  public static final String NAT_INSTANCE_IDS = "NatInstanceIds";

  /**
   * Optional: the port of the node agent on each PostgreSQL instance's private address. A stack
   * without it (made before the agents) renders nodes without {@code agent:}, and manual rejoin.
   */
  public static final String AGENT_PORT = "AgentPort";

  /**
   * Each node's outputs are {@code <prefix>Name}, {@code <prefix>InstanceId}, {@code
   * <prefix>EniId}, {@code <prefix>PrivateIp}.
   */
  public static final List<String> NODE_PREFIXES = List.of("NodeA", "NodeB");

  static final String NODE_NAME = "Name";
  static final String NODE_INSTANCE_ID = "InstanceId";
  static final String NODE_ENI_ID = "EniId";
  static final String NODE_PRIVATE_IP = "PrivateIp";

  /**
   * Where the NAT/control instance's boot script puts things (cloudformation/pgfailover.yaml,
   * NatLaunchTemplate).
   */
  public static final String DEFAULT_PASSWORD_FILE = "/etc/pgfailover/pg-password";

  public static final String ADMIN_TOKEN_FILE = "/etc/pgfailover/admin-token";

  /** The node agents' token, from the stack's AgentToken secret. */
  public static final String AGENT_TOKEN_FILE = "/etc/pgfailover/agent-token";

  private static final int POSTGRES_PORT = 5432;

  /**
   * Choices the stack does not make.
   *
   * @param password where the controller finds the database password (the stack's boot script
   *     writes {@value #DEFAULT_PASSWORD_FILE})
   * @param endpoint an emulator's endpoint; empty on AWS
   * @param fencing the stack allows {@code stop-instance} (the role may stop this cluster's tagged
   *     instances)
   * @param thisInstance the NAT/control instance the config is for (its boot script passes its own
   *     id): names the controller in the lease and decides which NAT is "self" and which the peer
   */
  public record Options(
      PasswordConfig password,
      Optional<URI> endpoint,
      FailoverPolicy.Fencing fencing,
      Optional<String> thisInstance) {
    public Options {
      Objects.requireNonNull(password, "password");
      Objects.requireNonNull(endpoint, "endpoint");
      Objects.requireNonNull(fencing, "fencing");
      Objects.requireNonNull(thisInstance, "thisInstance");
    }

    public Options(
        PasswordConfig password, Optional<URI> endpoint, FailoverPolicy.Fencing fencing) {
      this(password, endpoint, fencing, Optional.empty());
    }

    /**
     * The password file the stack writes, real AWS, no fencing (as in
     * config/controller.example.yaml).
     */
    public static Options defaults() {
      return new Options(
          new PasswordConfig(PasswordConfig.Kind.FILE, DEFAULT_PASSWORD_FILE),
          Optional.empty(),
          FailoverPolicy.Fencing.NONE);
    }
  }

  private StackConfig() {}

  /** Every output this class reads. */
  public static List<String> requiredOutputs() {
    List<String> keys =
        new ArrayList<>(
            List.of(
                CLUSTER_NAME, REGION, VIRTUAL_IP, ROUTE_TABLE_IDS, DATABASE_USER, DATABASE_NAME));
    for (String prefix : NODE_PREFIXES) {
      for (String field : List.of(NODE_NAME, NODE_INSTANCE_ID, NODE_ENI_ID, NODE_PRIVATE_IP)) {
        keys.add(prefix + field);
      }
    }
    return List.copyOf(keys);
  }

  /**
   * Renders the configuration and checks it with {@link ConfigLoader#parse} before returning it, so
   * that what is written is always loadable.
   *
   * @param stackName named in the header comment and in error messages
   * @throws ConfigException every missing output at once, or what the loader rejects (e.g. a
   *     malformed id in an output), each with its fix
   */
  public static String render(String stackName, Map<String, String> outputs, Options options)
      throws ConfigException {
    String source = "stack " + stackName + " outputs";
    List<ConfigError> missing = new ArrayList<>();
    for (String key : requiredOutputs()) {
      if (outputs.getOrDefault(key, "").isBlank()) {
        missing.add(
            new ConfigError(
                source,
                0,
                key,
                "is missing",
                "wait until the stack is CREATE_COMPLETE or UPDATE_COMPLETE, and check it was made"
                    + " from cloudformation/pgfailover.yaml"));
      }
    }
    if (!missing.isEmpty()) {
      throw new ConfigException(missing);
    }

    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("cluster", outputs.get(CLUSTER_NAME));
    Map<String, Object> aws = new LinkedHashMap<>();
    aws.put("region", outputs.get(REGION));
    options.endpoint().ifPresent(uri -> aws.put("endpoint", uri.toString()));
    doc.put("aws", aws);
    doc.put("virtualIp", outputs.get(VIRTUAL_IP));
    doc.put("routeTables", splitList(outputs.get(ROUTE_TABLE_IDS)));
    // The stack creates the virtual-IP route in every table; a missing one is drift to report, not
    // to paper over.
    doc.put("createRouteIfMissing", false);
    String agentPort = outputs.getOrDefault(AGENT_PORT, "").trim();
    List<Object> nodes = new ArrayList<>();
    for (String prefix : NODE_PREFIXES) {
      Map<String, Object> node = new LinkedHashMap<>();
      node.put("name", outputs.get(prefix + NODE_NAME));
      node.put("instanceId", outputs.get(prefix + NODE_INSTANCE_ID));
      node.put("eniId", outputs.get(prefix + NODE_ENI_ID));
      node.put("host", outputs.get(prefix + NODE_PRIVATE_IP));
      node.put("port", POSTGRES_PORT);
      node.put("database", outputs.get(DATABASE_NAME));
      node.put("user", outputs.get(DATABASE_USER));
      node.put("password", password(options.password()));
      if (!agentPort.isEmpty()) {
        Map<String, Object> agent = new LinkedHashMap<>();
        agent.put("url", "http://" + outputs.get(prefix + NODE_PRIVATE_IP) + ":" + agentPort);
        agent.put("tokenFile", AGENT_TOKEN_FILE);
        node.put("agent", agent);
      }
      nodes.add(node);
    }
    doc.put("nodes", nodes);
    if (!agentPort.isEmpty()) {
      // Both nodes run an agent: bring the old primary back as a standby by itself after a
      // failover (the loader's default with agents, written out so the file says it).
      doc.put("rejoin", "automatic");
    }
    Map<String, Object> failover = new LinkedHashMap<>();
    failover.put("automatic", true);
    failover.put("fencing", options.fencing().name().replace('_', '-').toLowerCase(Locale.ROOT));
    doc.put("failover", failover);
    Map<String, Object> admin = new LinkedHashMap<>();
    admin.put("listen", AdminConfig.DEFAULT_LISTEN);
    admin.put("tokenFile", ADMIN_TOKEN_FILE);
    doc.put("admin", admin);
    doc.put("eventLog", "/var/lib/pgfailover/events.jsonl");
    String leaseTable = outputs.getOrDefault(LEASE_TABLE_NAME, "");
    if (!leaseTable.isBlank()) {
      Map<String, Object> lease = new LinkedHashMap<>();
      lease.put("table", leaseTable);
      options.thisInstance().ifPresent(id -> lease.put("controller", id));
      doc.put("lease", lease);
    }
    List<String> nats = splitList(outputs.getOrDefault(NAT_INSTANCE_IDS, ""));
    List<String> tables = splitList(outputs.get(ROUTE_TABLE_IDS));
    if (options.thisInstance().isPresent() && nats.size() == 2 && tables.size() == 2) {
      int self = nats.indexOf(options.thisInstance().get());
      if (self < 0) {
        throw new ConfigException(
            List.of(
                new ConfigError(
                    source,
                    0,
                    NAT_INSTANCE_IDS,
                    "does not list this instance " + options.thisInstance().get(),
                    "run config from-stack on one of the stack's NAT/control instances ("
                        + String.join(", ", nats)
                        + "), or leave out --this-instance")));
      }
      Map<String, Object> nat = new LinkedHashMap<>();
      nat.put("instanceId", nats.get(self));
      nat.put(
          "peer",
          Map.of("instanceId", nats.get(1 - self), "routeTables", List.of(tables.get(1 - self))));
      doc.put("nat", nat);
    }

    String topic = outputs.getOrDefault(NOTIFICATION_TOPIC_ARN, "");
    if (!topic.isBlank()) {
      doc.put("notify", Map.of("sns", Map.of("topicArn", topic.trim())));
    }
    String namespace = outputs.getOrDefault(METRICS_NAMESPACE, "");
    if (!namespace.isBlank()) {
      doc.put("cloudwatch", Map.of("namespace", namespace.trim()));
    }

    DumperOptions style = new DumperOptions();
    style.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
    style.setIndicatorIndent(2);
    style.setIndentWithIndicator(true);
    String yaml =
        "# pgfailover controller configuration, written by `failoverctl config from-stack` from the"
            + " outputs of\n"
            + "# CloudFormation stack "
            + stackName
            + ". Probe timing uses the defaults (1s interval, 1s timeout, 3 failures);\n"
            + "# see config/controller.example.yaml for every knob. Check it with: failoverctl"
            + " config check\n"
            + new Yaml(style).dump(doc);
    ConfigLoader.parse(yaml, "configuration rendered from " + source);
    return yaml;
  }

  private static List<String> splitList(String commaSeparated) {
    List<String> items = new ArrayList<>();
    for (String item : commaSeparated.split(",")) {
      if (!item.isBlank()) {
        items.add(item.trim());
      }
    }
    return items;
  }

  private static Map<String, Object> password(PasswordConfig password) {
    return switch (password.kind()) {
      case ENV -> Map.of("env", password.value());
      case FILE -> Map.of("file", password.value());
      case PGPASS -> Map.of("pgpass", true);
    };
  }
}
