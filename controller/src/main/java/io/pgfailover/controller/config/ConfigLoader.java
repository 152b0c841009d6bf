package io.pgfailover.controller.config;

import io.pgfailover.controller.config.YamlFields.Errors;
import io.pgfailover.controller.notify.NotableEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.ScalarNode;

/**
 * Builds the one {@link ControllerConfig} from YAML. Every problem is collected (unknown keys,
 * missing fields, bad durations, CIDRs and ids, cross-field rules) and reported together with line
 * numbers and a fix; a bad value is never swapped for a default.
 */
public final class ConfigLoader {
  static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,17}");
  static final Pattern ENI_ID = Pattern.compile("eni-[0-9a-f]{8,17}");
  static final Pattern ROUTE_TABLE_ID = Pattern.compile("rtb-[0-9a-f]{8,17}");
  static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_.-]{0,62}");
  static final Pattern REGION = Pattern.compile("[a-z]{2}(-[a-z]+)+-\\d");
  static final Pattern IPV4_32 =
      Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/32");

  private ConfigLoader() {}

  /**
   * The config this host runs with: the file's structure and values, and what the host must provide
   * (each {@code password: {env: VAR}} variable set, secret files private to their owner).
   */
  public static ControllerConfig load(Path file) throws ConfigException {
    return parse(YamlFields.readFile(file), file.toString(), System::getenv);
  }

  /**
   * A config's structure and values, wherever it is to run: what {@code config from-stack} checks
   * before writing a config for another host.
   */
  public static ControllerConfig parse(String yaml, String source) throws ConfigException {
    return parse(yaml, source, Optional.empty());
  }

  /**
   * As {@link #parse(String, String)}, and what a host with environment {@code env} must provide,
   * as {@link #load} checks it.
   */
  public static ControllerConfig parse(String yaml, String source, Function<String, String> env)
      throws ConfigException {
    return parse(yaml, source, Optional.of(env));
  }

  /**
   * @param hostEnv the environment of the host the config is checked for; empty: the structure only
   */
  private static ControllerConfig parse(
      String yaml, String source, Optional<Function<String, String>> hostEnv)
      throws ConfigException {
    YamlFields top = YamlFields.top(yaml, source, "config/controller.example.yaml");
    ControllerConfig config = read(top, hostEnv);
    top.errors().throwIfAny();
    return config;
  }

  private static ControllerConfig read(YamlFields top, Optional<Function<String, String>> hostEnv) {
    Errors errors = top.errors();
    String cluster =
        top.requiredMatching(
            "cluster", NAME, "a cluster name (lower-case letters, digits, - _ .)", "orders-db");

    YamlFields awsFields = top.object("aws");
    if (top.get("aws").isEmpty()) {
      errors.add(top.node(), "aws", "is required but missing", "add aws: {region: eu-west-1}");
    }
    String region =
        awsFields.node() == null
            ? ""
            : awsFields.requiredMatching("region", REGION, "an AWS region", "eu-west-1");
    AwsConfig aws = new AwsConfig(region, awsFields.uri("endpoint"));
    awsFields.rejectUnknown();

    String vip =
        top.requiredString(
            "virtualIp", "add virtualIp: 172.31.255.10/32 (an address outside the VPC CIDR)");
    top.get("virtualIp").ifPresent(n -> checkVirtualIp(vip, n, errors));

    List<String> routeTables =
        top.list(
            "routeTables",
            true,
            "list the route tables whose virtual-IP route follows the primary, e.g. routeTables:"
                + " [rtb-0123456789abcdef0]",
            item -> routeTableId(item, errors));
    top.get("routeTables")
        .filter(n -> routeTables.isEmpty())
        .ifPresent(
            n -> errors.add(n, "routeTables", "is empty", "list at least one route table id"));
    duplicates(routeTables, top.get("routeTables").orElse(null), "routeTables", errors);
    boolean createRoute = top.bool("createRouteIfMissing", false);

    List<NodeConfig> nodes =
        top.list(
            "nodes",
            true,
            "list the primary and the standby under nodes:",
            item -> node(new YamlFields(item.node(), item.path(), errors), hostEnv));
    if (top.get("nodes").isPresent() && nodes.size() < 2) {
      errors.add(
          top.get("nodes").get(),
          "nodes",
          "has " + nodes.size() + " node(s)",
          "list at least two nodes: a primary and a standby");
    }
    duplicates(
        nodes.stream().map(NodeConfig::name).toList(),
        top.get("nodes").orElse(null),
        "nodes[].name",
        errors);
    duplicates(
        nodes.stream().map(NodeConfig::eniId).toList(),
        top.get("nodes").orElse(null),
        "nodes[].eniId",
        errors);
    duplicates(
        nodes.stream().map(NodeConfig::instanceId).toList(),
        top.get("nodes").orElse(null),
        "nodes[].instanceId",
        errors);

    YamlFields p = top.object("probe");
    ProbePolicy probe =
        new ProbePolicy(
            p.duration("interval", ProbePolicy.DEFAULT_INTERVAL),
            p.duration("timeout", ProbePolicy.DEFAULT_TIMEOUT),
            (int) p.integer("failureThreshold", ProbePolicy.DEFAULT_FAILURE_THRESHOLD, 1, 100),
            p.bool("writeCheck", true),
            p.duration("routeRefresh", ProbePolicy.DEFAULT_ROUTE_REFRESH));
    p.rejectUnknown();
    // The loop probes once per interval: a probe longer than the interval would overlap the next
    // one.
    if (probe.timeout().compareTo(probe.interval()) > 0) {
      errors.add(
          p.get("timeout").orElse(p.node()),
          "probe.timeout",
          probe.timeout().toMillis()
              + " ms is longer than probe.interval ("
              + probe.interval().toMillis()
              + " ms)",
          "make probe.timeout at most probe.interval");
    }
    if (probe.interval().toMillis() < 100) {
      errors.add(
          p.get("interval").orElse(p.node()),
          "probe.interval",
          "is below 100 ms",
          "use 100ms or more");
    }
    if (probe.routeRefresh().compareTo(probe.interval()) < 0) {
      errors.add(
          p.get("routeRefresh").orElse(p.node()),
          "probe.routeRefresh",
          "is shorter than probe.interval",
          "make probe.routeRefresh at least probe.interval (30s is a good value)");
    }

    YamlFields f = top.object("failover");
    FailoverPolicy failover =
        new FailoverPolicy(
            f.bool("automatic", true),
            f.bytes("maxLagBytes", FailoverPolicy.DEFAULT_MAX_LAG_BYTES),
            f.enumValue("fencing", FailoverPolicy.Fencing.class, FailoverPolicy.Fencing.NONE),
            f.duration("witnessWindow", FailoverPolicy.DEFAULT_WITNESS_WINDOW),
            f.duration("promoteTimeout", FailoverPolicy.DEFAULT_PROMOTE_TIMEOUT));
    f.rejectUnknown();

    YamlFields a = top.object("admin");
    String listen = a.optionalString("listen").orElse(AdminConfig.DEFAULT_LISTEN);
    InetSocketAddress address =
        hostPort(listen, a.get("listen").orElse(a.node()), "admin.listen", errors);
    Optional<Path> tokenFile = a.optionalString("tokenFile").map(Path::of);
    if (hostEnv.isPresent() && tokenFile.isPresent()) {
      privateFile(tokenFile.get(), a.get("tokenFile").get(), "admin.tokenFile", errors);
    }
    AdminConfig admin = new AdminConfig(address, tokenFile);
    a.rejectUnknown();

    EventLogConfig eventLog = eventLog(top, EventLogConfig.DEFAULT_PATH);
    Optional<LeaseConfig> lease = top.get("lease").map(n -> lease(top.object("lease"), probe));
    Optional<NatConfig> nat = top.get("nat").map(n -> nat(top.object("nat")));
    boolean agents = nodes.stream().anyMatch(n -> n.agent().isPresent());
    ControllerConfig.RejoinMode rejoin =
        top.enumValue(
            "rejoin",
            ControllerConfig.RejoinMode.class,
            agents ? ControllerConfig.RejoinMode.AUTOMATIC : ControllerConfig.RejoinMode.MANUAL);
    if (rejoin == ControllerConfig.RejoinMode.AUTOMATIC && !agents) {
      errors.add(
          top.get("rejoin").get(),
          "rejoin",
          "automatic needs node agents, and no node has one",
          "give the nodes agent: {url, tokenFile} (see the README's Node agent), or remove"
              + " rejoin");
    }
    ReplicationPolicy replication = replication(top);
    NotifyConfig notify =
        top.get("notify").isEmpty()
            ? NotifyConfig.NONE
            : notify(top.object("notify"), region, hostEnv.isPresent());
    Optional<CloudWatchConfig> cloudWatch =
        top.get("cloudwatch").map(n -> cloudWatch(top.object("cloudwatch")));
    top.rejectUnknown();
    return new ControllerConfig(
        cluster,
        aws,
        vip,
        routeTables,
        createRoute,
        nodes,
        probe,
        failover,
        admin,
        eventLog,
        lease,
        nat,
        rejoin,
        replication,
        notify,
        cloudWatch);
  }

  static final Pattern SNS_TOPIC_ARN =
      Pattern.compile("arn:aws(-cn|-us-gov)?:sns:([a-z0-9-]+):\\d{12}:[A-Za-z0-9_-]{1,256}");

  /**
   * {@code notify: {command, commandTimeout, sns: {topicArn}, events, queue, deadline}}.
   *
   * @param checkHost whether the hook must exist and be executable here (not for a config written
   *     for another host)
   */
  private static NotifyConfig notify(YamlFields n, String region, boolean checkHost) {
    Errors errors = n.errors();
    Optional<List<String>> command =
        n.get("command")
            .map(
                node ->
                    n.list(
                        "command",
                        false,
                        "write command: [/usr/local/bin/page-oncall, --team, db]",
                        item ->
                            new YamlFields(null, item.path(), errors)
                                .scalar(item.node(), item.path())
                                .orElse("")));
    command.ifPresent(c -> checkCommand(c, n, checkHost));
    Duration commandTimeout = n.duration("commandTimeout", NotifyConfig.DEFAULT_COMMAND_TIMEOUT);
    Optional<String> topicArn = Optional.empty();
    if (n.get("sns").isPresent()) {
      YamlFields sns = n.object("sns");
      String arn =
          sns.requiredMatching(
              "topicArn",
              SNS_TOPIC_ARN,
              "an SNS topic ARN",
              "arn:aws:sns:" + region + ":123456789012:pgfailover-prod");
      var m = SNS_TOPIC_ARN.matcher(arn);
      // The controller's clients talk to aws.region: a topic elsewhere would need a client per
      // region, and SNS refuses a cross-region Publish.
      if (m.matches() && !m.group(2).equals(region) && !region.isEmpty()) {
        errors.add(
            sns.get("topicArn").get(),
            "notify.sns.topicArn",
            "is in region " + m.group(2) + ", not in aws.region (" + region + ")",
            "use a topic in "
                + region
                + " (the stack's NotificationTopicArn output), or fix aws.region");
      }
      sns.rejectUnknown();
      topicArn = Optional.of(arn).filter(a -> !a.isEmpty());
    }
    Set<NotableEvent> events =
        n.get("events").isEmpty()
            ? Set.of(NotableEvent.values())
            : n
                .list(
                    "events",
                    false,
                    "list event names, e.g. events: [failover_finished, failover_failed]",
                    item -> notableEvent(item, errors))
                .stream()
                .flatMap(Optional::stream)
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
    int queue = (int) n.integer("queue", NotifyConfig.DEFAULT_QUEUE, 1, NotifyConfig.MAX_QUEUE);
    Duration deadline = n.duration("deadline", NotifyConfig.DEFAULT_DEADLINE);
    n.rejectUnknown();
    if (command.isEmpty() && topicArn.isEmpty() && !n.get("sns").isPresent()) {
      errors.add(
          n.node(),
          "notify",
          "has no channel",
          "add command: [/usr/local/bin/page-oncall] or sns: {topicArn: arn:aws:sns:"
              + region
              + ":123456789012:pgfailover-prod}, or remove notify");
    }
    // A hook that may run as long as the deadline would never be retried.
    if (command.isPresent() && commandTimeout.compareTo(deadline) >= 0) {
      errors.add(
          n.get("commandTimeout").orElse(n.node()),
          "notify.commandTimeout",
          commandTimeout.toMillis()
              + " ms is not shorter than notify.deadline ("
              + deadline.toMillis()
              + " ms)",
          "make notify.commandTimeout shorter than notify.deadline (10s and 5m are the defaults)");
    }
    return new NotifyConfig(command, commandTimeout, topicArn, events, queue, deadline);
  }

  private static Optional<NotableEvent> notableEvent(YamlFields.Item item, Errors errors) {
    String v =
        new YamlFields(null, item.path(), errors).scalar(item.node(), item.path()).orElse("");
    for (NotableEvent e : NotableEvent.values()) {
      if (e.text().equals(v)) {
        return Optional.of(e);
      }
    }
    errors.add(
        item.node(),
        item.path(),
        "\"" + v + "\" is not a notable event",
        "write one of "
            + java.util.Arrays.stream(NotableEvent.values())
                .map(NotableEvent::text)
                .collect(java.util.stream.Collectors.joining(", ")));
    return Optional.empty();
  }

  /** The hook: an absolute path first; on this host, an executable file there. */
  private static void checkCommand(List<String> command, YamlFields n, boolean checkHost) {
    Errors errors = n.errors();
    Node at = n.get("command").get();
    if (command.isEmpty() || command.get(0).isEmpty()) {
      errors.add(
          at,
          "notify.command",
          "is empty",
          "give the hook's absolute path first, e.g. command: [/usr/local/bin/page-oncall]");
      return;
    }
    Path path = Path.of(command.get(0));
    if (!path.isAbsolute()) {
      errors.add(
          at,
          "notify.command[0]",
          "\"" + path + "\" is not an absolute path",
          "write the hook's full path, e.g. /usr/local/bin/" + path.getFileName());
    } else if (checkHost && !Files.isRegularFile(path)) {
      errors.add(
          at,
          "notify.command[0]",
          path + " does not exist (or is not a file)",
          "install the hook at " + path + ", or fix the path");
    } else if (checkHost && !Files.isExecutable(path)) {
      errors.add(at, "notify.command[0]", path + " is not executable", "chmod 755 " + path);
    }
  }

  /** {@code cloudwatch: {namespace, interval}}. */
  private static CloudWatchConfig cloudWatch(YamlFields c) {
    String namespace = c.optionalString("namespace").orElse(CloudWatchConfig.DEFAULT_NAMESPACE);
    // CloudWatch's own rule for a namespace; "AWS/" is reserved for AWS's services.
    if (!CLOUDWATCH_NAMESPACE.matcher(namespace).matches() || namespace.startsWith("AWS/")) {
      c.errors()
          .add(
              c.get("namespace").orElse(c.node()),
              "cloudwatch.namespace",
              "\"" + namespace + "\" is not a CloudWatch namespace of your own",
              "write letters, digits and . - _ / # : (not starting with AWS/), e.g. PgFailover");
    }
    Duration interval = c.duration("interval", CloudWatchConfig.DEFAULT_INTERVAL);
    if (interval.compareTo(CloudWatchConfig.MIN_INTERVAL) < 0) {
      c.errors()
          .add(
              c.get("interval").orElse(c.node()),
              "cloudwatch.interval",
              "is below 1s",
              "use 1s or more (60s matches CloudWatch's standard resolution)");
    }
    c.rejectUnknown();
    return new CloudWatchConfig(namespace, interval);
  }

  static final Pattern CLOUDWATCH_NAMESPACE = Pattern.compile("[A-Za-z0-9.\\-_/#:]{1,255}");

  /** {@code replication: {mode: async | sync, strict: false}}. */
  private static ReplicationPolicy replication(YamlFields top) {
    if (top.get("replication").isEmpty()) {
      return ReplicationPolicy.DEFAULT;
    }
    YamlFields r = top.object("replication");
    ReplicationPolicy policy =
        new ReplicationPolicy(
            r.enumValue("mode", ReplicationPolicy.Mode.class, ReplicationPolicy.Mode.ASYNC),
            r.bool("strict", false));
    if (policy.strict() && !policy.sync()) {
      top.errors()
          .add(
              r.get("strict").get(),
              "replication.strict",
              "applies to mode: sync only",
              "set mode: sync, or remove strict");
    }
    r.rejectUnknown();
    return policy;
  }

  /** One entry of a list of route table ids: an {@code rtb-} id, else an error naming the item. */
  private static String routeTableId(YamlFields.Item item, Errors errors) {
    String id =
        new YamlFields(null, item.path(), errors).scalar(item.node(), item.path()).orElse("");
    if (!id.isEmpty() && !ROUTE_TABLE_ID.matcher(id).matches()) {
      errors.add(
          item.node(),
          item.path(),
          "\"" + id + "\" is not a route table id",
          "write it like rtb-0123456789abcdef0");
    }
    return id;
  }

  /**
   * {@code eventLog: PATH} (rotation defaults) or {@code eventLog: {path, maxFileSize, keepFiles}}.
   */
  static EventLogConfig eventLog(YamlFields top, Path defaultPath) {
    Optional<Node> given = top.get("eventLog");
    if (given.isEmpty()) {
      return EventLogConfig.of(defaultPath);
    }
    if (given.get() instanceof ScalarNode s) {
      return EventLogConfig.of(Path.of(s.getValue()));
    }
    YamlFields e = top.object("eventLog");
    Path path = e.optionalString("path").map(Path::of).orElse(defaultPath);
    long maxBytes = e.bytes("maxFileSize", EventLogConfig.DEFAULT_MAX_FILE_BYTES);
    int keep =
        (int)
            e.integer(
                "keepFiles", EventLogConfig.DEFAULT_KEEP_FILES, 1, EventLogConfig.MAX_KEEP_FILES);
    e.rejectUnknown();
    if (maxBytes < EventLogConfig.MIN_MAX_FILE_BYTES
        || maxBytes > EventLogConfig.MAX_MAX_FILE_BYTES) {
      top.errors()
          .add(
              e.get("maxFileSize").orElse(e.node()),
              "eventLog.maxFileSize",
              maxBytes + " bytes is out of range",
              "use a size from 1MB to 1GB, e.g. 16MB");
    }
    return new EventLogConfig(path, maxBytes, keep);
  }

  static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z0-9_.-]{3,255}");

  private static LeaseConfig lease(YamlFields l, ProbePolicy probe) {
    Errors errors = l.errors();
    String table =
        l.requiredMatching("table", TABLE_NAME, "a DynamoDB table name", "orders-db-lease");
    String controller = l.optionalString("controller").orElse(defaultControllerName());
    if (!NAME.matcher(controller).matches()) {
      errors.add(
          l.get("controller").orElse(l.node()),
          "lease.controller",
          "\"" + controller + "\" is not a controller name",
          "write lower-case letters, digits, - _ . e.g. controller: nat-a");
    }
    LeaseConfig c =
        new LeaseConfig(
            table,
            controller,
            l.duration("duration", LeaseConfig.DEFAULT_DURATION),
            l.duration("renewInterval", LeaseConfig.DEFAULT_RENEW_INTERVAL),
            l.duration("callTimeout", LeaseConfig.DEFAULT_CALL_TIMEOUT),
            l.duration("safetyMargin", LeaseConfig.DEFAULT_SAFETY_MARGIN));
    l.rejectUnknown();
    // The loop renews: it cannot renew more often than it runs.
    if (c.renewInterval().compareTo(probe.interval()) < 0) {
      errors.add(
          l.get("renewInterval").orElse(l.node()),
          "lease.renewInterval",
          c.renewInterval().toMillis()
              + " ms is shorter than probe.interval ("
              + probe.interval().toMillis()
              + " ms)",
          "make lease.renewInterval at least probe.interval");
    }
    // The margin must cover a call that was checked but not yet sent.
    if (c.safetyMargin().compareTo(c.callTimeout()) < 0) {
      errors.add(
          l.get("safetyMargin").orElse(l.node()),
          "lease.safetyMargin",
          c.safetyMargin().toMillis()
              + " ms is shorter than lease.callTimeout ("
              + c.callTimeout().toMillis()
              + " ms)",
          "make lease.safetyMargin at least lease.callTimeout");
    }
    // A renewal is due every renewInterval, the loop may see it one probe interval late, and one
    // renewal may
    // time out and be retried: all of that must fit before the leader has to stop acting.
    Duration needed =
        c.renewInterval()
            .plus(probe.interval())
            .plus(c.callTimeout().multipliedBy(2))
            .plus(c.safetyMargin());
    if (c.duration().compareTo(needed) <= 0) {
      errors.add(
          l.get("duration").orElse(l.node()),
          "lease.duration",
          c.duration().toMillis()
              + " ms is not longer than renewInterval + probe.interval + 2 × callTimeout +"
              + " safetyMargin ("
              + needed.toMillis()
              + " ms)",
          "make lease.duration longer than "
              + needed.toMillis()
              + " ms, or shorten lease.renewInterval");
    }
    return c;
  }

  private static NatConfig nat(YamlFields n) {
    Errors errors = n.errors();
    String self =
        n.requiredMatching("instanceId", INSTANCE_ID, "an EC2 instance id", "i-0123456789abcdef0");
    YamlFields peer = n.object("peer");
    if (n.get("peer").isEmpty()) {
      errors.add(
          n.node(),
          "nat.peer",
          "is required but missing",
          "add peer: {instanceId: i-..., routeTables: [rtb-...]}");
    }
    String peerId =
        peer.node() == null
            ? ""
            : peer.requiredMatching(
                "instanceId", INSTANCE_ID, "an EC2 instance id", "i-0123456789abcdef1");
    List<String> tables =
        peer.node() == null
            ? List.of()
            : peer.list(
                "routeTables",
                true,
                "list the peer AZ's private route tables, e.g. routeTables:"
                    + " [rtb-0123456789abcdef1]",
                item -> routeTableId(item, errors));
    duplicates(tables, peer.get("routeTables").orElse(null), "nat.peer.routeTables", errors);
    Optional<InetSocketAddress> check =
        peer.optionalString("healthCheck")
            .map(v -> hostPort(v, peer.get("healthCheck").get(), "nat.peer.healthCheck", errors));
    if (peer.node() != null) {
      peer.rejectUnknown();
    }
    int threshold =
        (int) n.integer("failureThreshold", NatConfig.DEFAULT_FAILURE_THRESHOLD, 1, 100);
    boolean failback = n.bool("failback", true);
    n.rejectUnknown();
    if (!self.isEmpty() && self.equals(peerId)) {
      errors.add(
          peer.get("instanceId").orElse(n.node()),
          "nat.peer.instanceId",
          "is this controller's own instance (nat.instanceId)",
          "name the other AZ's NAT instance");
    }
    return new NatConfig(self, peerId, tables, check, threshold, failback);
  }

  static String defaultControllerName() {
    String host = System.getenv().getOrDefault("HOSTNAME", "");
    if (host.isEmpty()) {
      try {
        host = java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.io.IOException e) {
        host = "controller";
      }
    }
    String name = host.toLowerCase().replaceAll("[^a-z0-9_.-]", "-");
    return name.isEmpty() || !Character.isLetterOrDigit(name.charAt(0))
        ? "controller"
        : name.substring(0, Math.min(name.length(), 63));
  }

  private static NodeConfig node(YamlFields n, Optional<Function<String, String>> hostEnv) {
    Errors errors = n.errors();
    String name =
        n.requiredMatching("name", NAME, "a node name (lower-case letters, digits, - _ .)", "pg-a");
    String instanceId =
        n.requiredMatching("instanceId", INSTANCE_ID, "an EC2 instance id", "i-0123456789abcdef0");
    String eniId = n.requiredMatching("eniId", ENI_ID, "an ENI id", "eni-0123456789abcdef0");
    String host = n.requiredString("host", "add host: the node's private IP or DNS name");
    int port = (int) n.integer("port", 5432, 1, 65535);
    String database = n.optionalString("database").orElse("postgres");
    String user =
        n.requiredString(
            "user",
            "add user: the role the controller logs in as (needs pg_monitor; superuser or"
                + " pg_promote rights to promote)");
    PasswordConfig password =
        password(n.object("password"), n.get("password").isPresent(), hostEnv);
    Map<String, String> jdbc = new LinkedHashMap<>();
    YamlFields j = n.object("jdbc");
    n.get("jdbc")
        .ifPresent(
            node -> {
              if (node instanceof org.yaml.snakeyaml.nodes.MappingNode m) {
                m.getValue()
                    .forEach(
                        t -> {
                          // A non-scalar key is reported by YamlFields; nothing to read here.
                          if (t.getKeyNode() instanceof ScalarNode k) {
                            j.optionalString(k.getValue())
                                .ifPresent(v -> jdbc.put(k.getValue(), v));
                          }
                        });
              }
            });
    if (jdbc.containsKey("password")) {
      errors.add(
          n.get("jdbc").get(),
          n.child("jdbc.password"),
          "a password must not be written in the config",
          "use password: {env: VAR} or password: {file: /path}");
    }
    Optional<AgentEndpoint> agent =
        n.get("agent").map(a -> agent(n.object("agent"), hostEnv.isPresent()));
    n.rejectUnknown();
    return new NodeConfig(
        name, instanceId, eniId, host, port, database, user, password, Map.copyOf(jdbc), agent);
  }

  /** {@code agent: {url, tokenFile}}: the node agent on this node's host. */
  private static AgentEndpoint agent(YamlFields a, boolean checkHost) {
    Errors errors = a.errors();
    Optional<java.net.URI> url = a.uri("url");
    if (a.get("url").isEmpty()) {
      errors.add(
          a.node(),
          a.child("url"),
          "is required but missing",
          "add url: http://<the host's private address>:8009, as the agent's listen says");
    }
    url.filter(u -> !"http".equals(u.getScheme()) || u.getHost() == null || u.getPort() < 1)
        .ifPresent(
            u ->
                errors.add(
                    a.get("url").get(),
                    a.child("url"),
                    "\"" + u + "\" is not http://HOST:PORT",
                    "write the agent's address and port, e.g. http://10.0.1.10:8009"));
    String token =
        a.requiredString(
            "tokenFile", "add tokenFile: the file holding the agent's token (mode 0600)");
    if (checkHost && !token.isEmpty()) {
      privateFile(Path.of(token), a.get("tokenFile").get(), a.child("tokenFile"), errors);
    }
    a.rejectUnknown();
    return new AgentEndpoint(url.orElse(java.net.URI.create("http://invalid:0")), Path.of(token));
  }

  /** A password block as the agent's config reads it: its structure only (see the other). */
  static PasswordConfig password(YamlFields p, boolean present) {
    return password(p, present, Optional.empty());
  }

  private static PasswordConfig password(
      YamlFields p, boolean present, Optional<Function<String, String>> hostEnv) {
    if (!present) {
      return new PasswordConfig(PasswordConfig.Kind.PGPASS, "");
    }
    Optional<String> variable = p.optionalString("env");
    Optional<String> file = p.optionalString("file");
    boolean pgpass = p.bool("pgpass", false);
    p.rejectUnknown();
    int given = (variable.isPresent() ? 1 : 0) + (file.isPresent() ? 1 : 0) + (pgpass ? 1 : 0);
    if (given != 1) {
      p.errors()
          .add(
              p.node(),
              p.path(),
              "needs exactly one of env, file, pgpass",
              "write password: {env: PGFAILOVER_PASSWORD}, {file: /etc/pgfailover/pg-password} or"
                  + " {pgpass: true}");
      return new PasswordConfig(PasswordConfig.Kind.PGPASS, "");
    }
    if (variable.isPresent()) {
      String value = hostEnv.map(env -> env.apply(variable.get())).orElse(null);
      if (hostEnv.isPresent() && (value == null || value.isEmpty())) {
        p.errors()
            .add(
                p.get("env").get(),
                p.child("env"),
                variable.get() + " is not set (or empty) in this environment",
                "set it where the controller runs (the systemd unit reads"
                    + " /etc/pgfailover/environment), or use password: {file:"
                    + " /etc/pgfailover/pg-password}");
      }
      return new PasswordConfig(PasswordConfig.Kind.ENV, variable.get());
    }
    if (file.isPresent()) {
      if (hostEnv.isPresent()) {
        privateFile(Path.of(file.get()), p.get("file").get(), p.child("file"), p.errors());
      }
      return new PasswordConfig(PasswordConfig.Kind.FILE, file.get());
    }
    return new PasswordConfig(PasswordConfig.Kind.PGPASS, "");
  }

  /**
   * A file that holds a secret must not be open to group or others (as libpq requires of .pgpass);
   * a file that is not there yet is left to the reader, which reports it when it needs it.
   */
  private static void privateFile(Path file, Node at, String path, Errors errors) {
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(file);
    } catch (IOException | UnsupportedOperationException e) {
      return;
    }
    if (perms.stream()
        .anyMatch(x -> x.name().startsWith("GROUP") || x.name().startsWith("OTHERS"))) {
      errors.add(
          at,
          path,
          file + " is accessible by group or others (" + PosixFilePermissions.toString(perms) + ")",
          "chmod 600 " + file);
    }
  }

  private static void checkVirtualIp(String vip, Node at, Errors errors) {
    var m = IPV4_32.matcher(vip);
    boolean ok = m.matches();
    for (int i = 1; ok && i <= 4; i++) {
      ok = Integer.parseInt(m.group(i)) <= 255;
    }
    if (!ok) {
      errors.add(
          at,
          "virtualIp",
          "\"" + vip + "\" is not an IPv4 /32 CIDR",
          "write one address with /32, e.g. 172.31.255.10/32, outside the VPC CIDR");
    }
  }

  static InetSocketAddress hostPort(String value, Node at, String path, Errors errors) {
    int colon = value.lastIndexOf(':');
    try {
      if (colon <= 0) {
        throw new NumberFormatException();
      }
      int port = Integer.parseInt(value.substring(colon + 1));
      if (port < 0 || port > 65535) {
        throw new NumberFormatException();
      }
      return InetSocketAddress.createUnresolved(value.substring(0, colon), port);
    } catch (NumberFormatException e) {
      errors.add(at, path, "\"" + value + "\" is not host:port", "write it like 127.0.0.1:8008");
      return InetSocketAddress.createUnresolved("127.0.0.1", 8008);
    }
  }

  private static void duplicates(List<String> values, Node at, String path, Errors errors) {
    Set<String> seen = new HashSet<>();
    for (String v : values) {
      if (!v.isEmpty() && !seen.add(v)) {
        errors.add(at, path, "\"" + v + "\" appears twice", "each entry must be unique");
      }
    }
  }
}
