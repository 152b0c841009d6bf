package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Patroni on pgfo-a and pgfo-b, its DCS a one-member etcd on pgfo-ctl (the third host). Node a
 * starts first and bootstraps the cluster, so it is the first primary; node b clones it. Patroni
 * manages replication as it does by default: asynchronous ({@code synchronous_mode} off).
 */
final class PatroniCluster extends PeerCluster {
  static final String ETCD = NetnsLab.IP_CTL + ":2379";
  private static final int REST_PORT = 8008;
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Patroni's leader-race timing, in seconds ({@code bootstrap.dcs}). */
  record Timing(int ttl, int loopWait, int retryTimeout) {
    /** Patroni's defaults (docs/dynamic_configuration.rst). */
    static final Timing DEFAULTS = new Timing(30, 10, 10);

    /**
     * The lowest values Patroni accepts: its docs give each minimum (ttl 20, loop_wait 1,
     * retry_timeout 3) and patroni/config.py raises lower values to them; loop_wait + 2 *
     * retry_timeout <= ttl holds.
     */
    static final Timing FLOOR = new Timing(20, 1, 3);

    String summary() {
      return "ttl "
          + ttl
          + " s, loop_wait "
          + loopWait
          + " s, retry_timeout "
          + retryTimeout
          + " s";
    }
  }

  private final Path venv;

  private PatroniCluster(Path dir, Path venv) throws IOException {
    super(dir);
    this.venv = venv;
  }

  /** A fresh cluster with node a primary and node b streaming from it, both seen by Patroni. */
  static PatroniCluster start(Path dir, Path venv, Timing timing) throws IOException {
    PatroniCluster c = new PatroniCluster(dir, venv);
    try {
      c.startEtcd();
      c.startNode("a", NetnsLab.HOST_A, NetnsLab.IP_A, timing);
      awaitRestApi(NetnsLab.IP_A, "/primary");
      c.startNode("b", NetnsLab.HOST_B, NetnsLab.IP_B, timing);
      awaitPrimaryOnAWithStandby();
      awaitRestApi(NetnsLab.IP_B, "/replica"); // b is running, streaming, and in the leader race
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private void startEtcd() throws IOException {
    Path data = dataDir("etcd");
    String client = "http://" + ETCD;
    String peer = "http://" + NetnsLab.IP_CTL + ":2380";
    startOn(
        NetnsLab.CONTROLLER,
        "etcd.log",
        List.of(
            "etcd",
            "--name",
            "lab",
            "--data-dir",
            data.resolve("member-data").toString(),
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
            "--listen-peer-urls",
            peer,
            "--initial-advertise-peer-urls",
            peer,
            "--initial-cluster",
            "lab=" + peer),
        Map.of());
    Waits.until(
        "etcd to answer on " + client,
        START_TIMEOUT,
        () -> get(client + "/health").contains("\"health\":\"true\""));
  }

  private void startNode(String name, String host, String ip, Timing timing) throws IOException {
    Path home = dataDir(name);
    Path config = dir.resolve("patroni-" + name + ".yml");
    String yaml =
        String.join(
            "\n",
            "scope: lab",
            "name: " + name,
            "restapi:",
            "  listen: " + ip + ":" + REST_PORT,
            "  connect_address: " + ip + ":" + REST_PORT,
            "etcd3:",
            "  host: " + ETCD,
            "bootstrap:",
            "  dcs:",
            "    ttl: " + timing.ttl(),
            "    loop_wait: " + timing.loopWait(),
            "    retry_timeout: " + timing.retryTimeout(),
            "  initdb: [{encoding: UTF8}, {auth-host: scram-sha-256}]",
            "postgresql:",
            "  listen: '*:5432'",
            "  connect_address: " + ip + ":5432",
            "  data_dir: " + home.resolve("data"),
            "  bin_dir: " + pg.binDir(),
            "  pgpass: " + home.resolve("pgpass"),
            "  pg_hba:",
            "    - local all all trust",
            // Patroni's own connections come over 127.0.0.1; clients and the standby over the lab
            "    - host all all 127.0.0.1/32 scram-sha-256",
            "    - host replication replicator 127.0.0.1/32 scram-sha-256",
            "    - host replication replicator " + NetnsLab.LAB_CIDR + " scram-sha-256",
            "    - host all all " + NetnsLab.LAB_CIDR + " scram-sha-256",
            "  authentication:",
            "    superuser: {username: "
                + PostgresPair.SUPERUSER
                + ", password: "
                + PostgresPair.SUPERUSER_PASSWORD
                + "}",
            "    replication: {username: replicator, password: "
                + PostgresPair.SUPERUSER_PASSWORD
                + "}",
            "  parameters:",
            "    unix_socket_directories: '" + socketDir(host) + "'",
            "");
    Files.writeString(config, yaml);
    startOn(
        host,
        "patroni-" + name + ".log",
        List.of(venv.resolve("bin/patroni").toString(), config.toString()),
        Map.of("HOME", home.toString()));
  }

  /** Waits for Patroni's REST health check on a node to answer 200 ({@code /primary}, ...). */
  private static void awaitRestApi(String ip, String path) {
    String url = "http://" + ip + ":" + REST_PORT + path;
    Waits.until("Patroni's " + url + " to answer 200", START_TIMEOUT, () -> status(url) == 200);
  }

  @Override
  Map<String, String> versions() {
    Map<String, String> v = new LinkedHashMap<>();
    v.put("patroni", versionOf(List.of(venv.resolve("bin/patroni").toString(), "--version")));
    v.put("etcd", versionOf(List.of("etcd", "--version")));
    v.put("python", versionOf(List.of(venv.resolve("bin/python").toString(), "--version")));
    return v;
  }

  private static String get(String url) throws IOException, InterruptedException {
    return HTTP.send(request(url), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static int status(String url) throws IOException, InterruptedException {
    return HTTP.send(request(url), HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  private static HttpRequest request(String url) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build();
  }
}
