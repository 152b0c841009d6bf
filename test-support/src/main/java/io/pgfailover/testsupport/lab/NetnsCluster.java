package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulator;
import io.pgfailover.testsupport.aws.VpcFixture;
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
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * One run of the netns lab (bench drill or fault-matrix scenario): a fresh PostgreSQL pair on hosts pgfo-a and
 * pgfo-b, the emulator (moto on the router, reset) holding a VPC whose instances carry the hosts' addresses, the
 * reflector steering the router, and {@code failoverctl run} as its own process on pgfo-ctl. Runs inside
 * pgfo-cli; {@code scripts/netns.sh up} made the namespaces and started moto.
 */
public final class NetnsCluster implements AutoCloseable {
  static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Path dir;
  private final Path controllerJar;
  private final PostgresPair pair;
  private final Ec2Client ec2;
  private final VpcFixture vpc;
  private final Reflector reflector;
  private final Path config;
  private final Path eventLog;
  private Process controller;

  private NetnsCluster(Path dir, Path controllerJar, PostgresPair pair, Ec2Client ec2, VpcFixture vpc,
      Reflector reflector, Path config, Path eventLog) {
    this.dir = dir;
    this.controllerJar = controllerJar;
    this.pair = pair;
    this.ec2 = ec2;
    this.vpc = vpc;
    this.reflector = reflector;
    this.config = config;
    this.eventLog = eventLog;
  }

  /**
   * @param probe the config's {@code probe:} flow body, e.g. {@link LabConfig#DEFAULT_PROBE}
   * @param failover the config's {@code failover:} flow body, e.g. {@link LabConfig#DEFAULT_FAILOVER}
   */
  public static NetnsCluster start(Path dir, Path controllerJar, boolean synchronous, String probe, String failover)
      throws IOException {
    Files.createDirectories(dir);
    resetEmulator();
    PostgresPair pair = PostgresPair.start(dir.resolve("pg"), NetnsLab.pairLayout(synchronous));
    Ec2Client ec2 = null;
    try {
      ec2 = Ec2Client.builder().endpointOverride(URI.create(NetnsLab.EC2_ENDPOINT))
          .region(Region.of(AwsEmulator.DEFAULT_REGION)).credentialsProvider(AwsEmulator.CREDENTIALS)
          .httpClientBuilder(UrlConnectionHttpClient.builder()).build();
      VpcFixture vpc = VpcFixture.builder(ec2).clusterName("lab").routeTables(2).addressing(NetnsLab.ADDRESSING)
          .vipCidr(NetnsLab.VIP + "/32").create();
      Reflector reflector = new Reflector(ec2, vpc.routeTableIds().get(0), vpc.vipCidr(),
          Map.of(vpc.primary().eniId(), vpc.primary().privateIp(), vpc.standby().eniId(), vpc.standby().privateIp()))
          .start();
      Waits.until("the router to route the virtual IP", START_TIMEOUT, () -> !reflector.switches().isEmpty());
      Path password = Lab.secret(dir.resolve("pg-password"), PostgresPair.SUPERUSER_PASSWORD);
      Path token = Lab.secret(dir.resolve("admin-token"), java.util.UUID.randomUUID().toString());
      Path events = dir.resolve("events.jsonl");
      Files.deleteIfExists(events);
      List<LabConfig.Binding> bindings = List.of(
          LabConfig.Binding.of("pg-a", pair.nodeA(), vpc.primary()),
          LabConfig.Binding.of("pg-b", pair.nodeB(), vpc.standby()));
      Path config = dir.resolve("controller.yaml");
      Files.writeString(config, new LabConfig(URI.create(NetnsLab.EC2_ENDPOINT), AwsEmulator.DEFAULT_REGION, vpc,
          bindings, password, token, 8008, events, probe, failover).render());
      return new NetnsCluster(dir, controllerJar, pair, ec2, vpc, reflector, config, events);
    } catch (RuntimeException | IOException e) {
      if (ec2 != null) {
        ec2.close();
      }
      pair.close();
      throw e;
    }
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

  public Path config() {
    return config;
  }

  public Path controllerJar() {
    return controllerJar;
  }

  public Path dir() {
    return dir;
  }

  /** The config's name for a harness node: pg-a or pg-b. */
  public static String configName(PgNode node) {
    return "pg-" + node.name();
  }

  /** Starts {@code failoverctl run} on pgfo-ctl and waits for its first HEALTHY decision. */
  public void startController() {
    Instant since = Instant.now();
    startControllerProcess();
    awaitEvent("the controller's first healthy loop", START_TIMEOUT, since,
        e -> "decision".equals(e.path("event").asText()) && "HEALTHY".equals(e.path("reason").asText()));
  }

  /** Starts {@code failoverctl run} on pgfo-ctl without waiting for anything. */
  public void startControllerProcess() {
    String java = ProcessHandle.current().info().command().orElse("java");
    ProcessBuilder pb = new ProcessBuilder("ip", "netns", "exec", NetnsLab.CONTROLLER, java, "-jar",
        controllerJar.toString(), "run", "-c", config.toString());
    pb.environment().put("AWS_ACCESS_KEY_ID", "test");
    pb.environment().put("AWS_SECRET_ACCESS_KEY", "test");
    pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("controller.log").toFile()));
    try {
      controller = pb.start(); // ip netns exec execs: this process is the controller's JVM
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the controller", e);
    }
  }

  /** SIGKILLs the controller, as a crash or an OOM kill would. */
  public void killController() {
    stopController(true);
  }

  public void stopController(boolean kill) {
    Process p = controller;
    if (p == null) {
      return;
    }
    if (kill) {
      p.destroyForcibly();
    } else {
      p.destroy();
    }
    try {
      if (!p.waitFor(15, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(15, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    controller = null;
  }

  /** The controller's event history, one JSON object per line. */
  public List<JsonNode> events() {
    List<JsonNode> out = new ArrayList<>();
    try {
      if (!Files.exists(eventLog)) {
        return out;
      }
      for (String line : Files.readAllLines(eventLog)) {
        if (!line.isBlank()) {
          try {
            out.add(Lab.JSON.readTree(line));
          } catch (IOException partial) {
            // the last line may be half written while the controller appends it
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + eventLog, e);
    }
    return out;
  }

  public List<JsonNode> eventsAfter(Instant since, java.util.function.Predicate<JsonNode> match) {
    return events().stream().filter(e -> !Instant.parse(e.path("ts").asText()).isBefore(since)).filter(match).toList();
  }

  public JsonNode awaitEvent(String what, Duration limit, Instant since, java.util.function.Predicate<JsonNode> match) {
    Waits.until(what, limit, () -> {
      if (controller != null && !controller.isAlive()) {
        throw new Waits.GiveUp("the controller exited with " + controller.exitValue() + "; see " + dir.resolve("controller.log"));
      }
      return !eventsAfter(since, match).isEmpty();
    });
    return eventsAfter(since, match).get(0);
  }

  public static boolean isTimeline(JsonNode e) {
    return "failover_timeline".equals(e.path("event").asText());
  }

  /** A connection through the virtual IP with the client settings the README recommends. */
  public static Connection connectVip() throws SQLException {
    return connect(NetnsLab.VIP);
  }

  public static Connection connect(String host) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", PostgresPair.SUPERUSER);
    p.setProperty("password", PostgresPair.SUPERUSER_PASSWORD);
    p.setProperty("connectTimeout", "2");
    p.setProperty("loginTimeout", "2");
    p.setProperty("socketTimeout", "2");
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("ApplicationName", "pgfailover-bench");
    return DriverManager.getConnection("jdbc:postgresql://" + host + ":5432/postgres", p);
  }

  @Override
  public void close() {
    stopController(false);
    reflector.close();
    for (String node : List.of("a", "b")) {
      try {
        NetnsLab.heal(node);
      } catch (RuntimeException ignored) {
        // already up
      }
    }
    ec2.close();
    pair.close();
  }

  /** Drops everything the emulator holds, so each run starts from an empty account. */
  static void resetEmulator() {
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(
          HttpRequest.newBuilder(URI.create(NetnsLab.EC2_ENDPOINT + "/moto-api/reset")).timeout(Duration.ofSeconds(10))
              .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        throw new IllegalStateException("moto reset answered HTTP " + r.statusCode() + ": " + r.body());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("the emulator at " + NetnsLab.EC2_ENDPOINT + " does not answer"
          + " (scripts/netns.sh up starts it)", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
