package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The controller YAML for a PostgreSQL pair and an emulator fixture: used by the lab ({@code lab.sh
 * up}) and by the controller's integration tests, so both run the controller exactly as an
 * operator's config would.
 *
 * @param nodes each node's name in the config, its server, and the EC2 instance/ENI standing for
 *     its host
 * @param failover the {@code failover:} block's flow mapping body, e.g. {@code automatic: true,
 *     fencing: none}
 * @param adminHost the address the admin API listens on (127.0.0.1 unless another lab host must
 *     reach it)
 * @param lease the {@code lease:} block's flow mapping body (table, controller name, timing), for a
 *     controller pair
 * @param agents the nodes' agents and what the controller does with them; none: no {@code agent:}
 * @param replication the {@code replication:} block's flow mapping body, e.g. {@code mode: sync}
 */
public record LabConfig(
    URI awsEndpoint,
    String region,
    VpcFixture vpc,
    List<Binding> nodes,
    Path passwordFile,
    Path tokenFile,
    int adminPort,
    Path eventLog,
    String probe,
    String failover,
    String adminHost,
    Optional<String> lease,
    Optional<Agents> agents,
    Optional<String> replication) {

  public static final String DEFAULT_PROBE =
      "interval: 1s, timeout: 1s, failureThreshold: 3, writeCheck: true, routeRefresh: 30s";
  public static final String DEFAULT_FAILOVER =
      "automatic: true, maxLagBytes: 16MB, fencing: none, witnessWindow: 5s, promoteTimeout: 30s";

  /**
   * The drills' {@code fast} profile: one failed probe and a standby host's agreement confirm. It
   * shows what that buys, not settings to run: through the flapping link it fails over a healthy
   * primary ({@code PGFAILOVER_FLAP_SETTINGS=fast}; {@code config check} cautions against it).
   */
  public static final String FAST_PROBE =
      "interval: 500ms, timeout: 500ms, failureThreshold: 2, writeCheck: true, routeRefresh: 30s";

  public static final String FAST_FAILOVER =
      "automatic: true, maxLagBytes: 16MB, fencing: none, witnessWindow: 1s, promoteTimeout: 30s";

  /**
   * The controller pair's lease duration in tests and drills. An AZ's loss costs the application
   * about this long plus a second (the follower takes over no sooner than {@code duration} after
   * the cut-off leader's last renewal), so it is half a second longer than the config's rule
   * requires: 4.5 s > renewInterval 1 s + probe interval 1 s + 2 × callTimeout 0.5 s + safetyMargin
   * 1 s. The safety margin is unchanged from the lab's earlier 5 s lease: the cut-off leader stops
   * acting a full second before anyone may take over.
   */
  public static final Duration LAB_LEASE_DURATION = Duration.ofMillis(4500);

  /** {@link #LAB_LEASE_DURATION} with the rest of the lab's lease timing, as a config body. */
  public static final String LAB_LEASE_TIMING =
      "duration: "
          + LAB_LEASE_DURATION.toMillis()
          + "ms, renewInterval: 1s, callTimeout: 500ms, safetyMargin: 1s";

  /**
   * The controller pair's lease with the {@code fast} probe, with the same 1 s safety margin.
   * {@code renewInterval} cannot be shorter than the probe interval (the loop renews), so {@code
   * config check} needs more than 500 ms + 500 ms + 2 × callTimeout + 1 s. With 80 ms calls (a 2.2
   * s lease) the writes resumed within 3.0 s in 8 drills of 10, but the lab's moto, on the same two
   * busy cores, missed the 40 ms attempts often enough that leaders lapsed and one run stopped; 200
   * ms calls and a 2.5 s lease are what the lab holds.
   */
  public static final String FAST_LEASE_TIMING =
      "duration: 2500ms, renewInterval: 500ms, callTimeout: 200ms, safetyMargin: 1s";

  /**
   * A node agent's {@code witness:} flow body for a controller's {@code probe:} body: its upstream
   * probed with the controller's timeout, every quarter of it, as the README advises.
   */
  public static String witnessOf(String probe) {
    String timeout = field(probe, "timeout");
    return "interval: " + millis(timeout) / 4 + "ms, timeout: " + timeout;
  }

  /** A duration as the lab's configs write it: {@code 500ms} or {@code 1s}. */
  private static long millis(String duration) {
    return duration.endsWith("ms")
        ? Long.parseLong(duration.substring(0, duration.length() - 2))
        : Long.parseLong(duration.substring(0, duration.length() - 1)) * 1000;
  }

  private static String field(String flowBody, String key) {
    for (String item : flowBody.split(",")) {
      String[] kv = item.split(":", 2);
      if (kv.length == 2 && kv[0].strip().equals(key)) {
        return kv[1].strip();
      }
    }
    throw new IllegalArgumentException("no " + key + " in {" + flowBody + "}");
  }

  /** Where the admin API listens unless {@link #withAdminHost} says otherwise. */
  static final String LOOPBACK = "127.0.0.1";

  /** A single controller, admin API on 127.0.0.1. */
  public LabConfig(
      URI awsEndpoint,
      String region,
      VpcFixture vpc,
      List<Binding> nodes,
      Path passwordFile,
      Path tokenFile,
      int adminPort,
      Path eventLog,
      String probe,
      String failover) {
    this(
        awsEndpoint,
        region,
        vpc,
        nodes,
        passwordFile,
        tokenFile,
        adminPort,
        eventLog,
        probe,
        failover,
        LOOPBACK,
        Optional.empty(),
        Optional.empty(),
        Optional.empty());
  }

  /**
   * The node agents a config names: each node's agent URL ({@code nodes[].agent.url}), the token
   * file they share, and the {@code rejoin:} mode (automatic or manual).
   */
  public record Agents(Map<String, URI> urls, Path tokenFile, String rejoin) {
    public Agents {
      urls = Map.copyOf(urls);
    }
  }

  /**
   * This config as one of a controller pair: {@code controller} takes the lease in {@code table}.
   */
  public LabConfig withLease(String table, String controller, String timing) {
    return with(
        adminHost,
        Optional.of("table: " + table + ", controller: " + controller + ", " + timing),
        agents,
        replication);
  }

  public LabConfig withAdminHost(String host) {
    return with(host, lease, agents, replication);
  }

  public LabConfig withAgents(Agents value) {
    return with(adminHost, lease, Optional.of(value), replication);
  }

  /** This config with a {@code replication:} block, e.g. {@code mode: sync}. */
  public LabConfig withReplication(String body) {
    return with(adminHost, lease, agents, Optional.of(body));
  }

  /** The admin API's address for the other lab hosts; empty when it listens on loopback only. */
  public Optional<URI> remoteAdmin() {
    return LOOPBACK.equals(adminHost)
        ? Optional.empty()
        : Optional.of(URI.create("http://" + adminHost + ":" + adminPort));
  }

  /** This config with the settings the withers change. */
  private LabConfig with(
      String adminHost,
      Optional<String> lease,
      Optional<Agents> agents,
      Optional<String> replication) {
    return new LabConfig(
        awsEndpoint,
        region,
        vpc,
        nodes,
        passwordFile,
        tokenFile,
        adminPort,
        eventLog,
        probe,
        failover,
        adminHost,
        lease,
        agents,
        replication);
  }

  /**
   * A node as the config names it, the server behind it, and the host it stands on in the emulator.
   */
  public record Binding(
      String name, String host, int port, VpcFixture.Node ec2, Optional<Login> login) {
    public Binding(String name, String host, int port, VpcFixture.Node ec2) {
      this(name, host, port, ec2, Optional.empty());
    }

    public static Binding of(String name, PgNode pg, VpcFixture.Node ec2) {
      return new Binding(name, pg.host(), pg.port(), ec2);
    }

    /** The same node, the controller logging in as {@code login} instead of the superuser. */
    public Binding as(Login login) {
      return new Binding(name, host, port, ec2, Optional.of(login));
    }
  }

  /** A PostgreSQL login role for the controller and the file holding its password. */
  public record Login(String user, Path passwordFile) {}

  public String render() {
    StringBuilder y = new StringBuilder();
    y.append("# Generated for the loopback lab: a PostgreSQL pair and the AWS emulator.\n");
    y.append("cluster: lab\n");
    y.append("aws:\n  region: ")
        .append(region)
        .append("\n  endpoint: ")
        .append(awsEndpoint)
        .append('\n');
    y.append("virtualIp: ").append(vpc.vipCidr()).append('\n');
    y.append("routeTables:\n");
    vpc.routeTableIds().forEach(t -> y.append("  - ").append(t).append('\n'));
    y.append("nodes:\n");
    for (Binding n : nodes) {
      y.append("  - name: ")
          .append(n.name())
          .append('\n')
          .append("    instanceId: ")
          .append(n.ec2().instanceId())
          .append('\n')
          .append("    eniId: ")
          .append(n.ec2().eniId())
          .append('\n')
          .append("    host: ")
          .append(n.host())
          .append('\n')
          .append("    port: ")
          .append(n.port())
          .append('\n')
          .append("    database: postgres\n")
          .append("    user: ")
          .append(n.login().map(Login::user).orElse(PostgresPair.SUPERUSER))
          .append('\n')
          .append("    password: {file: ")
          .append(n.login().map(Login::passwordFile).orElse(passwordFile))
          .append("}\n");
      agents
          .filter(a -> a.urls().containsKey(n.name()))
          .ifPresent(
              a ->
                  y.append("    agent: {url: '")
                      .append(a.urls().get(n.name()))
                      .append("', tokenFile: ")
                      .append(a.tokenFile())
                      .append("}\n"));
    }
    y.append("probe: {").append(probe).append("}\n");
    y.append("failover: {").append(failover).append("}\n");
    y.append("admin: {listen: '")
        .append(adminHost)
        .append(':')
        .append(adminPort)
        .append("', tokenFile: ")
        .append(tokenFile)
        .append("}\n");
    y.append("eventLog: ").append(eventLog).append('\n');
    lease.ifPresent(l -> y.append("lease: {").append(l).append("}\n"));
    agents.ifPresent(a -> y.append("rejoin: ").append(a.rejoin()).append('\n'));
    replication.ifPresent(r -> y.append("replication: {").append(r).append("}\n"));
    return y.toString();
  }
}
