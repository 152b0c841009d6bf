package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulator;
import io.pgfailover.testsupport.aws.LeaseTableFixture;
import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.pg.DatabaseRoles;
import io.pgfailover.testsupport.pg.PairLayout;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * One run of the netns lab (bench drill or fault-matrix scenario): a fresh PostgreSQL pair on hosts
 * pgfo-a and pgfo-b, the emulator (moto on the router, reset) holding a VPC whose instances carry
 * the hosts' addresses, the reflector steering the router, and {@code failoverctl run} as its own
 * process on pgfo-ctl (or a controller pair on pgfo-ctl and pgfo-ctl2 sharing a lease), and a node
 * agent on each PostgreSQL host ({@link LabAgent}) that the controllers reach through {@code
 * nodes[].agent}: they rejoin an old primary by themselves ({@code rejoin: automatic}) and, in sync
 * mode, manage {@code synchronous_standby_names}. Runs inside pgfo-cli; {@code scripts/netns.sh up}
 * made the namespaces and started moto.
 */
public final class NetnsCluster implements AutoCloseable {
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  /** The controller pair's lease table on the lab's emulator. */
  public static final String LEASE_TABLE = "lab-lease";

  private final Path dir;
  private final Path controllerJar;
  private final Options options;
  private final PostgresPair pair;
  private final Ec2Client ec2;
  private final VpcFixture vpc;
  private final Reflector reflector;
  private final List<LabController> controllers;
  private final Map<String, LabAgent> agents;

  private NetnsCluster(
      Path dir,
      Path controllerJar,
      Options options,
      PostgresPair pair,
      Ec2Client ec2,
      VpcFixture vpc,
      Reflector reflector,
      List<LabController> controllers,
      Map<String, LabAgent> agents) {
    this.dir = dir;
    this.controllerJar = controllerJar;
    this.options = options;
    this.pair = pair;
    this.ec2 = ec2;
    this.vpc = vpc;
    this.reflector = reflector;
    this.controllers = controllers;
    this.agents = agents;
  }

  /**
   * How a lab run is set up: the controller's settings, the replication it manages, what pg_rewind
   * finds on the servers, and what the agents and the controller do about a node that fell off.
   *
   * @param sync {@code replication: {mode: sync}}: the controller makes the caught-up standby
   *     synchronous (and the run waits for it before the fault)
   * @param probe the config's {@code probe:} flow body, e.g. {@link LabConfig#DEFAULT_PROBE}; its
   *     interval and timeout are the agents' witness too
   * @param failover the config's {@code failover:} flow body, e.g. {@link
   *     LabConfig#DEFAULT_FAILOVER}
   * @param rewind the servers' settings for pg_rewind ({@link PairLayout.Rewind#ON}: all of them)
   * @param reclone the agents' {@code rejoin.reclone}
   * @param rejoin the controller's {@code rejoin:} mode, automatic or manual
   */
  public record Options(
      boolean sync,
      String probe,
      String failover,
      PairLayout.Rewind rewind,
      boolean reclone,
      String rejoin) {
    /** Agents that can rewind, automatic rejoin. */
    public static Options of(boolean sync, String probe, String failover) {
      return new Options(sync, probe, failover, PairLayout.Rewind.ON, false, "automatic");
    }

    public Options withRewind(PairLayout.Rewind value, boolean reclone) {
      return new Options(sync, probe, failover, value, reclone, rejoin);
    }

    public Options withRejoin(String value) {
      return new Options(sync, probe, failover, rewind, reclone, value);
    }
  }

  /**
   * One controller on pgfo-ctl, no lease.
   *
   * @param probe the config's {@code probe:} flow body, e.g. {@link LabConfig#DEFAULT_PROBE}
   * @param failover the config's {@code failover:} flow body, e.g. {@link
   *     LabConfig#DEFAULT_FAILOVER}
   */
  public static NetnsCluster start(
      Path dir, Path controllerJar, boolean synchronous, String probe, String failover)
      throws IOException {
    return start(dir, controllerJar, Options.of(synchronous, probe, failover));
  }

  /** One controller on pgfo-ctl, no lease, set up as {@code options} says. */
  public static NetnsCluster start(Path dir, Path controllerJar, Options options)
      throws IOException {
    return start(dir, controllerJar, options, Optional.empty());
  }

  /**
   * A controller pair, as on the two NAT/control instances: ctl-a on pgfo-ctl (AZ A, with pgfo-a,
   * where the primary starts) and ctl-b on pgfo-ctl2 (AZ B, with pgfo-b), one lease table ({@value
   * #LEASE_TABLE}) on the emulator's DynamoDB with {@code leaseTiming} (a {@code lease:} body's
   * duration, renewInterval, callTimeout and safetyMargin), each with its own event log and its
   * admin API on its host's address. Neither is started.
   */
  public static NetnsCluster startPair(
      Path dir,
      Path controllerJar,
      boolean synchronous,
      String probe,
      String failover,
      String leaseTiming)
      throws IOException {
    return start(
        dir, controllerJar, Options.of(synchronous, probe, failover), Optional.of(leaseTiming));
  }

  private static NetnsCluster start(
      Path dir, Path controllerJar, Options options, Optional<String> leaseTiming)
      throws IOException {
    Files.createDirectories(dir);
    resetEmulator();
    PostgresPair pair =
        PostgresPair.start(dir.resolve("pg"), NetnsLab.pairLayout(options.rewind()));
    Ec2Client ec2 = null;
    Reflector reflector = null;
    Map<String, LabAgent> agents = new LinkedHashMap<>();
    try {
      // The controllers and the agents log in with roles.sql's roles, as on EC2.
      Path localPassword = Lab.secret(dir.resolve("controller-pw"), randomSecret());
      Path replicationPassword = Lab.secret(dir.resolve("replication-pw"), randomSecret());
      Path agentToken = Lab.secret(dir.resolve("agent-token"), randomSecret());
      DatabaseRoles.apply(
          pair,
          Files.readString(localPassword).strip(),
          Files.readString(replicationPassword).strip());
      String witness = LabConfig.witnessOf(options.probe());
      for (PgNode n : pair.nodes()) {
        LabAgent agent =
            LabAgent.configure(
                pair,
                n,
                dir,
                controllerJar,
                agentToken,
                localPassword,
                replicationPassword,
                options.reclone(),
                witness);
        agents.put(agent.name(), agent);
        agent.start();
      }
      ec2 =
          Ec2Client.builder()
              .endpointOverride(URI.create(NetnsLab.EC2_ENDPOINT))
              .region(Region.of(AwsEmulator.DEFAULT_REGION))
              .credentialsProvider(AwsEmulator.CREDENTIALS)
              .httpClientBuilder(UrlConnectionHttpClient.builder())
              .build();
      VpcFixture vpc =
          VpcFixture.builder(ec2)
              .clusterName("lab")
              .routeTables(2)
              .addressing(NetnsLab.ADDRESSING)
              .vipCidr(NetnsLab.VIP + "/32")
              .create();
      Reflector r =
          new Reflector(
                  ec2,
                  vpc.routeTableIds().get(0),
                  vpc.vipCidr(),
                  Map.of(
                      vpc.primary().eniId(),
                      vpc.primary().privateIp(),
                      vpc.standby().eniId(),
                      vpc.standby().privateIp()))
              .start();
      reflector = r;
      Waits.until(
          "the router to route the virtual IP", START_TIMEOUT, () -> !r.switches().isEmpty());
      Path password = Lab.secret(dir.resolve("pg-password"), PostgresPair.SUPERUSER_PASSWORD);
      Path token = Lab.secret(dir.resolve("admin-token"), randomSecret());
      // The controller logs in as roles.sql's role, as on EC2: its heartbeat schema is that role's.
      LabConfig.Login login = new LabConfig.Login(DatabaseRoles.CONTROLLER, localPassword);
      List<LabConfig.Binding> bindings =
          List.of(
              LabConfig.Binding.of("pg-a", pair.nodeA(), vpc.primary()).as(login),
              LabConfig.Binding.of("pg-b", pair.nodeB(), vpc.standby()).as(login));
      Map<String, URI> agentUrls = new LinkedHashMap<>();
      agents.forEach((name, agent) -> agentUrls.put(name, agent.url()));
      LabConfig.Agents agentConfig = new LabConfig.Agents(agentUrls, agentToken, options.rejoin());
      // What every controller's config shares; each has its own event history.
      Function<Path, LabConfig> configFor =
          events -> {
            LabConfig c =
                new LabConfig(
                        URI.create(NetnsLab.EC2_ENDPOINT),
                        AwsEmulator.DEFAULT_REGION,
                        vpc,
                        bindings,
                        password,
                        token,
                        8008,
                        events,
                        options.probe(),
                        options.failover())
                    .withAgents(agentConfig);
            return options.sync() ? c.withReplication("mode: sync") : c;
          };
      List<LabController> controllers = new ArrayList<>();
      if (leaseTiming.isEmpty()) {
        LabConfig config = configFor.apply(dir.resolve("events.jsonl"));
        controllers.add(controller("controller", NetnsLab.CONTROLLER, controllerJar, dir, config));
      } else {
        try (DynamoDbClient ddb =
            DynamoDbClient.builder()
                .endpointOverride(URI.create(NetnsLab.EC2_ENDPOINT))
                .region(Region.of(AwsEmulator.DEFAULT_REGION))
                .credentialsProvider(AwsEmulator.CREDENTIALS)
                .httpClientBuilder(UrlConnectionHttpClient.builder())
                .build()) {
          LeaseTableFixture.create(ddb, LEASE_TABLE);
        }
        String[][] hosts = {
          {"ctl-a", NetnsLab.CONTROLLER, NetnsLab.IP_CTL},
          {"ctl-b", NetnsLab.CONTROLLER_B, NetnsLab.IP_CTL_B}
        };
        for (String[] h : hosts) {
          LabConfig config =
              configFor
                  .apply(dir.resolve(h[0] + "-events.jsonl"))
                  .withAdminHost(h[2])
                  .withLease(LEASE_TABLE, h[0], leaseTiming.get());
          controllers.add(controller(h[0], h[1], controllerJar, dir, config));
        }
      }
      return new NetnsCluster(
          dir, controllerJar, options, pair, ec2, vpc, r, List.copyOf(controllers), agents);
    } catch (RuntimeException | IOException e) {
      if (reflector != null) {
        reflector.close();
      }
      if (ec2 != null) {
        ec2.close();
      }
      agents.values().forEach(LabAgent::kill);
      pair.close();
      throw e;
    }
  }

  private static String randomSecret() {
    return java.util.UUID.randomUUID().toString();
  }

  /**
   * Controller {@code name} on host {@code namespace}: {@code config} written to NAME.yaml in
   * {@code dir}, its log NAME.log beside it, and a new event history.
   */
  private static LabController controller(
      String name, String namespace, Path jar, Path dir, LabConfig config) throws IOException {
    Files.deleteIfExists(config.eventLog());
    // The highest timeline it saw is kept beside its history: a fresh pair starts again at 1.
    Files.deleteIfExists(
        config.eventLog().resolveSibling(config.eventLog().getFileName() + ".state"));
    Path configFile = dir.resolve(name + ".yaml");
    Files.writeString(configFile, config.render());
    return new LabController(
        name,
        namespace,
        jar,
        configFile,
        config.eventLog(),
        dir.resolve(name + ".log"),
        config.remoteAdmin().orElse(null));
  }

  public PostgresPair pair() {
    return pair;
  }

  public VpcFixture vpc() {
    return vpc;
  }

  public Ec2Client ec2() {
    return ec2;
  }

  public Reflector reflector() {
    return reflector;
  }

  /** The (first) controller's config. */
  public Path config() {
    return controller().config();
  }

  public Path controllerJar() {
    return controllerJar;
  }

  public Path dir() {
    return dir;
  }

  /** The single controller, or ctl-a of a pair. */
  public LabController controller() {
    return controllers.get(0);
  }

  /** One controller, or a pair: ctl-a (pgfo-ctl, AZ A) then ctl-b (pgfo-ctl2, AZ B). */
  public List<LabController> controllers() {
    return controllers;
  }

  /** The config's name for a harness node: pg-a or pg-b. */
  public static String configName(PgNode node) {
    return PostgresPair.configName(node);
  }

  /** The agent on {@code node}'s host. */
  public LabAgent agent(PgNode node) {
    return agents.get(configName(node));
  }

  public Options options() {
    return options;
  }

  /**
   * Starts {@code failoverctl run} on pgfo-ctl and waits for its first HEALTHY decision and, in
   * sync mode, for the standby it made synchronous: an automatic failover promotes only that one.
   */
  public void startController() {
    Instant since = Instant.now();
    startControllerProcess();
    awaitEvent(
        "the controller's first healthy loop", START_TIMEOUT, since, NetnsCluster::isHealthy);
    awaitSynchronousStandby();
  }

  private void awaitSynchronousStandby() {
    if (options.sync()) {
      PgNode primary = pair.primary();
      Waits.until(
          primary + " to have the synchronous standby the controller chose",
          START_TIMEOUT,
          () -> synchronousStandby(primary).isPresent());
    }
  }

  /** The standby {@code primary} reports synchronous ({@code pg_stat_replication}), if any. */
  public static java.util.Optional<String> synchronousStandby(PgNode primary) throws SQLException {
    try (Connection c = primary.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT application_name FROM pg_stat_replication WHERE sync_state = 'sync'")) {
      return rs.next() ? java.util.Optional.of(rs.getString(1)) : java.util.Optional.empty();
    }
  }

  /**
   * Waits until {@code standby} streams from {@code primary} (the primary's {@code
   * pg_stat_replication} shows it streaming by its config name) and returns when that was first
   * seen: two nodes streaming.
   */
  public Instant awaitStreaming(PgNode primary, PgNode standby, Duration limit) {
    String name = configName(standby);
    Waits.until(
        name + " to stream from " + configName(primary),
        limit,
        () -> {
          try (Connection c = primary.connect();
              Statement s = c.createStatement();
              ResultSet rs =
                  s.executeQuery(
                      "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND"
                          + " application_name = '"
                          + name
                          + "'")) {
            rs.next();
            return rs.getLong(1) == 1;
          } catch (SQLException e) {
            return false; // the primary may be restarting
          }
        });
    Instant seen = Instant.now();
    pair.refreshRoles();
    return seen;
  }

  /**
   * The host of {@code node} crashes: every process on it (PostgreSQL and its agent) is SIGKILLed.
   */
  public void crashHost(PgNode node) {
    NetnsLab.signalHost(NetnsLab.hostOf(node.name()), "KILL");
    agent(node).kill();
    pair.kill(node); // the harness's view: reaped, port closed
  }

  /**
   * The crashed host of {@code node} is back: PostgreSQL starts as it was left (an old primary
   * comes up a primary on its old timeline), then its agent, as systemd starts the two units.
   */
  public void restartHost(PgNode node) {
    pair.start(node);
    agent(node).start();
  }

  /** Starts {@code failoverctl run} on pgfo-ctl without waiting for anything. */
  public void startControllerProcess() {
    controller().start();
  }

  /**
   * Starts the pair so that ctl-a, in the primary's AZ, leads: ctl-a first, until its status says
   * LEADER, then ctl-b until it says FOLLOWER; returns once both have seen a healthy cluster.
   */
  public void startPairWithLeaderInAzA() {
    if (controllers.size() != 2) {
      throw new IllegalStateException("not a controller pair");
    }
    Instant since = Instant.now();
    LabController a = controllers.get(0);
    LabController b = controllers.get(1);
    a.start();
    a.awaitRole("LEADER", START_TIMEOUT);
    b.start();
    b.awaitRole("FOLLOWER", START_TIMEOUT);
    for (LabController c : controllers) {
      c.awaitEvent("its first healthy loop", START_TIMEOUT, since, NetnsCluster::isHealthy);
    }
    awaitSynchronousStandby();
  }

  /** SIGKILLs the controller, as a crash or an OOM kill would. */
  public void killController() {
    stopController(true);
  }

  public void stopController(boolean kill) {
    controller().stop(kill);
  }

  /** The controller's event history, one JSON object per line. */
  public List<JsonNode> events() {
    return controller().events();
  }

  public List<JsonNode> eventsAfter(Instant since, java.util.function.Predicate<JsonNode> match) {
    return controller().eventsAfter(since, match);
  }

  public JsonNode awaitEvent(
      String what, Duration limit, Instant since, java.util.function.Predicate<JsonNode> match) {
    return controller().awaitEvent(what, limit, since, match);
  }

  static boolean isHealthy(JsonNode e) {
    return "decision".equals(e.path("event").asText())
        && "HEALTHY".equals(e.path("reason").asText());
  }

  static boolean isPromotionStarted(JsonNode e) {
    return "action_started".equals(e.path("event").asText())
        && "promote".equals(e.path("action").asText());
  }

  public static boolean isTimeline(JsonNode e) {
    return "failover_timeline".equals(e.path("event").asText());
  }

  /**
   * A connection through the virtual IP with the default profile's client timeouts (the README's
   * client guidance), to whichever server answers there.
   */
  public static Connection connectVip() throws SQLException {
    return connect(NetnsLab.VIP);
  }

  public static Connection connect(String host) throws SQLException {
    return connectUrl("jdbc:postgresql://" + host + ":5432/postgres");
  }

  /**
   * A connection to a JDBC URL (a multi-host URL, say) with the same client settings as {@link
   * #connectVip}.
   */
  public static Connection connectUrl(String url) throws SQLException {
    Properties p = ClientSettings.DEFAULT.labObserver();
    p.setProperty("ApplicationName", "pgfailover-bench");
    return DriverManager.getConnection(url, p);
  }

  @Override
  public void close() {
    controllers.forEach(c -> c.stop(false));
    reflector.close();
    for (String node : List.of("a", "b", "ctl", "ctl2")) {
      try {
        NetnsLab.heal(node);
      } catch (RuntimeException ignored) {
        // already up
      }
    }
    ec2.close();
    agents.values().forEach(LabAgent::kill);
    pair.close();
  }

  /** Drops everything the emulator holds, so each run starts from an empty account. */
  static void resetEmulator() {
    try {
      HttpResponse<String> r =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(URI.create(NetnsLab.EC2_ENDPOINT + "/moto-api/reset"))
                      .timeout(Duration.ofSeconds(10))
                      .POST(HttpRequest.BodyPublishers.noBody())
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException(
            "moto reset answered HTTP " + r.statusCode() + ": " + r.body());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "the emulator at "
              + NetnsLab.EC2_ENDPOINT
              + " does not answer"
              + " (scripts/netns.sh up starts it)",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
