package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.aws.AwsEmulator;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Route;
import software.amazon.awssdk.services.ec2.model.RouteTable;

/**
 * The demo's failure drill on a running lab (run by {@code scripts/demo.sh} once the controller is
 * up): a writer inserts numbered rows through the virtual IP (resolved the way the VPC router does
 * it, from the route tables), the primary's postmaster is SIGKILLed, and the drill waits for the
 * controller's failover, for writes to resume, then counts acknowledged rows missing on the new
 * primary.
 */
public final class Demo {
  static final ObjectMapper JSON = new ObjectMapper();

  /** A lab node as the drill sees it. */
  public record Node(String name, String host, int port, String eni, long pid) {}

  /** One acknowledged insert. */
  public record Ack(long id, Instant at) {}

  public static void main(String[] args) throws Exception {
    Path statePath = Path.of(args.length > 0 ? args[0] : "lab/state.json");
    boolean json = List.of(args).contains("--json");
    JsonNode state = JSON.readTree(statePath.toFile());
    Path events = Path.of(state.path("event_log").asText());
    Map<String, Node> byEni = new HashMap<>();
    for (JsonNode n : state.path("nodes")) {
      byEni.put(
          n.path("eni_id").asText(),
          new Node(
              n.path("name").asText(),
              n.path("host").asText(),
              n.path("port").asInt(),
              n.path("eni_id").asText(),
              n.path("pid").asLong()));
    }
    List<String> tables = new ArrayList<>();
    state.path("route_tables").forEach(t -> tables.add(t.asText()));
    String vip = state.path("vip").asText();

    try (Ec2Client ec2 =
        Ec2Client.builder()
            .endpointOverride(URI.create(state.path("aws_endpoint").asText()))
            .region(Region.of(state.path("region").asText()))
            .credentialsProvider(AwsEmulator.CREDENTIALS)
            .build()) {
      Router router = new Router(ec2, tables, vip, byEni);
      System.out.println("== route tables before");
      System.out.print(router.describe());
      Node primary =
          router
              .target()
              .orElseThrow(() -> new IllegalStateException("the virtual IP routes to no lab node"));
      try (Connection c = connect(primary);
          Statement s = c.createStatement()) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS demo_writes (id bigint PRIMARY KEY, at timestamptz NOT NULL"
                + " DEFAULT now())");
        s.execute("TRUNCATE demo_writes");
      }
      Writer writer = new Writer(router);
      Thread t = new Thread(writer, "writer");
      t.start();
      Waits.until(
          "the writer's first 20 acknowledged rows",
          Duration.ofSeconds(30),
          () -> writer.acks.size() >= 20);

      System.out.printf(
          "== killing primary %s (postmaster pid %d and its backends) with SIGKILL, as a crash"
              + " would%n",
          primary.name(), primary.pid());
      Instant killedAt = Instant.now();
      ProcessHandle.of(primary.pid())
          .ifPresent(
              pm -> {
                List<ProcessHandle> backends = pm.descendants().toList();
                pm.destroyForcibly();
                backends.forEach(ProcessHandle::destroyForcibly);
              });
      Optional<JsonNode> timeline = Optional.empty();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (timeline.isEmpty() && System.nanoTime() < deadline) {
        timeline = lastTimeline(events, killedAt);
        if (timeline.isEmpty()) {
          Thread.sleep(100); // polling a file the controller appends to; the deadline bounds it
        }
      }
      boolean failedOver = timeline.map(j -> j.path("completed").asBoolean()).orElse(false);
      if (failedOver) {
        Waits.until(
            "writes through the virtual IP to resume",
            Duration.ofSeconds(30),
            () -> writer.acksAfter(killedAt) >= 20);
      }
      writer.stop.set(true);
      t.join(10_000);

      Node newPrimary = router.target().orElse(primary);
      Set<Long> stored = new HashSet<>();
      if (failedOver) {
        try (Connection c = connect(newPrimary);
            Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT id FROM demo_writes")) {
          while (rs.next()) {
            stored.add(rs.getLong(1));
          }
        }
      }
      long lost = writer.acks.stream().filter(a -> !stored.contains(a.id())).count();
      long downtime = writeDowntimeMs(writer.acks.stream().map(Ack::at).toList(), killedAt);

      System.out.println("== route tables after");
      System.out.print(router.describe());
      ObjectNode summary = JSON.createObjectNode();
      summary.put("failover", failedOver ? "ok" : "failed");
      if (timeline.isPresent()) {
        JsonNode tl = timeline.get();
        Instant start = Instant.parse(tl.path("start").asText());
        JsonNode phases = tl.path("phases_ms");
        System.out.println("== failover timeline (ms since the primary was killed)");
        System.out.printf("  %-20s %6d%n", "killed", 0);
        List<Map.Entry<String, JsonNode>> sorted = new ArrayList<>();
        phases.fields().forEachRemaining(sorted::add);
        sorted.sort(Map.Entry.comparingByValue((x, y) -> Long.compare(x.asLong(), y.asLong())));
        for (Map.Entry<String, JsonNode> e : sorted) {
          System.out.printf(
              "  %-20s %6d%n", e.getKey(), sinceKill(killedAt, start, e.getValue().asLong()));
        }
        summary.put("detected_ms", sinceKill(killedAt, start, phases.path("confirmed").asLong()));
        summary.put("promoted_ms", sinceKill(killedAt, start, phases.path("promoted").asLong()));
        summary.put(
            "routes_switched_ms",
            sinceKill(killedAt, start, phases.path("routes_switched").asLong()));
      }
      summary.put("write_downtime_ms", downtime);
      summary.put("acked_writes", writer.acks.size());
      summary.put("lost_acked_writes", failedOver ? lost : -1);
      summary.put("rejoined_ms", -1); // the loopback lab runs no node agents: nothing rejoins
      System.out.printf(
          "== writes: %d acknowledged, %d missing on %s, write downtime %s ms%n",
          writer.acks.size(), lost, newPrimary.name(), summary.path("write_downtime_ms").asText());
      if (json) {
        System.out.println(JSON.writeValueAsString(summary));
      }
      System.exit(failedOver && lost == 0 ? 0 : 1);
    }
  }

  /**
   * What the application saw: the longest pause between two consecutive acknowledged writes that
   * ends after the fault (an insert already in flight can still be acknowledged just after the
   * kill). -1 when no write was acknowledged after the fault.
   */
  static long writeDowntimeMs(List<Instant> acks, Instant fault) {
    List<Instant> sorted = acks.stream().sorted().toList();
    long longest = -1;
    for (int i = 1; i < sorted.size(); i++) {
      if (sorted.get(i).isAfter(fault)) {
        longest = Math.max(longest, Duration.between(sorted.get(i - 1), sorted.get(i)).toMillis());
      }
    }
    return longest;
  }

  private static long sinceKill(Instant killedAt, Instant start, long phaseMs) {
    return Duration.between(killedAt, start.plusMillis(phaseMs)).toMillis();
  }

  /** The newest completed or failed failover timeline written after {@code since}. */
  static Optional<JsonNode> lastTimeline(Path events, Instant since) throws IOException {
    if (!Files.exists(events)) {
      return Optional.empty();
    }
    JsonNode found = null;
    for (String line : Files.readAllLines(events)) {
      if (!line.contains("\"failover_timeline\"")) {
        continue;
      }
      JsonNode e = JSON.readTree(line);
      if (Instant.parse(e.path("ts").asText()).isAfter(since)) {
        found = e;
      }
    }
    return Optional.ofNullable(found);
  }

  public static Connection connect(Node n) throws SQLException {
    return ClientSettings.DEFAULT.openLabClient( // the demo runs the default settings
        "jdbc:postgresql://" + n.host() + ":" + n.port() + "/postgres");
  }

  /** Sends the virtual IP where the route tables say, as the VPC router does. */
  public static final class Router {
    private final Ec2Client ec2;
    private final List<String> tables;
    private final String vip;
    private final Map<String, Node> byEni;

    public Router(Ec2Client ec2, List<String> tables, String vip, Map<String, Node> byEni) {
      this.ec2 = ec2;
      this.tables = tables;
      this.vip = vip;
      this.byEni = byEni;
    }

    private List<RouteTable> read() {
      return ec2.describeRouteTables(r -> r.routeTableIds(tables)).routeTables();
    }

    public Optional<Node> target() {
      for (RouteTable t : read()) {
        for (Route r : t.routes()) {
          if (vip.equals(r.destinationCidrBlock()) && r.networkInterfaceId() != null) {
            return Optional.ofNullable(byEni.get(r.networkInterfaceId()));
          }
        }
      }
      return Optional.empty();
    }

    String describe() {
      StringBuilder sb = new StringBuilder();
      for (RouteTable t : read()) {
        String to =
            t.routes().stream()
                .filter(r -> vip.equals(r.destinationCidrBlock()))
                .findFirst()
                .map(
                    r ->
                        r.networkInterfaceId()
                            + Optional.ofNullable(byEni.get(r.networkInterfaceId()))
                                .map(n -> " (" + n.name() + " " + n.host() + ":" + n.port() + ")")
                                .orElse(""))
                .orElse("no route");
        sb.append(String.format(Locale.ROOT, "  %-24s %s -> %s%n", t.routeTableId(), vip, to));
      }
      return sb.toString();
    }
  }

  /** Inserts numbered rows through the virtual IP, recording each acknowledged id. */
  public static final class Writer extends NumberedWriter {
    final Router router;
    public final ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    private Node at;
    private long resolvedAt;

    public Writer(Router router) {
      this.router = router;
    }

    public long acksAfter(Instant t) {
      return acks.stream().filter(a -> a.at().isAfter(t)).count();
    }

    /** Follows the route tables (re-read every 100 ms), as the VPC router does. */
    @Override
    protected Connection connection(Connection current) throws SQLException {
      if (current == null || System.nanoTime() - resolvedAt > 100_000_000L) {
        Node target = router.target().orElse(null);
        resolvedAt = System.nanoTime();
        if (target != null && !target.equals(at)) {
          close(current);
          current = null;
          at = target;
        }
      }
      if (at == null) {
        throw new SQLException("no route");
      }
      return current != null ? current : connect(at);
    }

    @Override
    protected void write(Connection c, long id) throws SQLException {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO demo_writes (id) VALUES (?)")) {
        ps.setLong(1, id);
        ps.executeUpdate();
      }
      acks.add(new Ack(id, Instant.now()));
    }
  }
}
