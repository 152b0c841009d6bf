package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.lab.FailoverBench.Drill;
import io.pgfailover.testsupport.lab.FailoverBench.Fault;
import io.pgfailover.testsupport.lab.FailoverBench.Settings;
import io.pgfailover.testsupport.pg.PgBinaries;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.jar.JarFile;

/**
 * {@code bench/peers.sh}: the drills of {@code bench/failover.sh} (the primary's host crashed, cut
 * off or frozen) against this project, Patroni and pg_auto_failover, each on the same netns lab's
 * two PostgreSQL hosts, with the same client on pgfo-cli and the same measurement: the longest
 * pause between acknowledged writes that ends after the fault, acknowledged writes the new primary
 * lacks, and split brain (an acknowledgement from the old primary after one from the new). Each
 * system reaches the primary its own way: this project through the virtual IP, the others through
 * libpq-style multi-host ({@code targetServerType=primary}). Prints a table, writes an SVG beside
 * {@code bench/failover.sh}'s and, with {@code --json}, one object per system as the last line.
 */
public final class PeersBench {
  /** How long a peer may take to fail over before the drill counts it as not failed over. */
  static final Duration FAILOVER_LIMIT = Duration.ofSeconds(120);

  /** The acknowledging server's node name from the address the client reached it on. */
  static final String NODE_BY_ADDRESS =
      "CASE host(inet_server_addr()) WHEN '"
          + NetnsLab.IP_A
          + "' THEN 'a' WHEN '"
          + NetnsLab.IP_B
          + "' THEN 'b' ELSE host(inet_server_addr()) END";

  static final String USAGE =
      "usage: --drills N --fault kill|cut|freeze [--system pgfailover|patroni|pg_auto_failover|all]"
          + " [--settings default|fast] [--json] [--out DIR] [--jar JAR] [--patroni-venv DIR]"
          + " [--revision REV]";

  /** The systems compared, as {@code --system} names them. */
  enum HaSystem {
    PGFAILOVER("pgfailover"),
    PATRONI("patroni"),
    PG_AUTO_FAILOVER("pg_auto_failover");

    final String cli;

    HaSystem(String cli) {
      this.cli = cli;
    }

    static List<HaSystem> parse(String s) {
      if (s.equals("all")) {
        return List.of(values());
      }
      for (HaSystem h : values()) {
        if (h.cli.equals(s)) {
          return List.of(h);
        }
      }
      throw new IllegalArgumentException(
          "--system is pgfailover, patroni, pg_auto_failover or all, got " + s);
    }
  }

  /**
   * What a system runs with in these drills: its settings and where they come from, how the client
   * reaches its primary, and how it replicates.
   */
  record Setup(String settings, String source, String client, String replication) {
    static Setup of(HaSystem system, Settings settings) {
      boolean fast = settings == Settings.FAST;
      String multiHost =
          "pgjdbc multi-host " + NetnsLab.IP_A + "," + NetnsLab.IP_B + ", targetServerType=primary";
      return switch (system) {
        case PGFAILOVER ->
            new Setup(
                settings.summary
                    + "; client "
                    + FailoverBench.clientSummary(settings.client.wholeSeconds()),
                "bench/failover.sh --settings " + settings.name().toLowerCase(Locale.ROOT),
                "virtual IP " + NetnsLab.VIP + " (the VPC router follows the route table)",
                "synchronous, managed by the controller (replication: {mode: sync})");
        case PATRONI ->
            new Setup(
                (fast ? PatroniCluster.Timing.FLOOR : PatroniCluster.Timing.DEFAULTS).summary(),
                fast
                    ? "the minimums in Patroni's docs (dynamic_configuration.rst), enforced by"
                        + " patroni/config.py"
                    : "Patroni's defaults (dynamic_configuration.rst)",
                multiHost,
                "asynchronous (Patroni's default: synchronous_mode off)");
        case PG_AUTO_FAILOVER ->
            new Setup(
                (fast ? AutoFailoverCluster.Timing.FAST : AutoFailoverCluster.Timing.DEFAULTS)
                    .summary(),
                fast
                    ? "1 s for each monitor timing GUC (they accept 1 ms; keepers report once a"
                        + " second) and 1 retry; primary_demote_timeout kept above"
                        + " network_partition_timeout"
                    : "pg_auto_failover 2.0's defaults (pg_settings on the monitor, pg_autoctl"
                        + " config)",
                multiHost,
                "synchronous (pg_auto_failover's default with one standby: ANY 1)");
      };
    }
  }

  public static void main(String[] args) throws Exception {
    int drills = 3;
    Fault fault = null;
    List<HaSystem> systems = List.of(HaSystem.values());
    Settings settings = Settings.DEFAULT;
    boolean json = false;
    Path out = Path.of("bench/out");
    Path jar = Path.of("controller/target/failoverctl.jar");
    Path patroniVenv = Path.of(".peers/patroni-venv");
    String revision = "";
    try {
      for (int i = 0; i < args.length; i++) {
        switch (args[i]) {
          case "--drills" -> drills = parseDrills(args[++i]);
          case "--fault" -> fault = parseFault(args[++i]);
          case "--system" -> systems = HaSystem.parse(args[++i]);
          case "--settings" -> settings = parseSettings(args[++i]);
          case "--json" -> json = true;
          case "--out" -> out = Path.of(args[++i]);
          case "--jar" -> jar = Path.of(args[++i]);
          case "--patroni-venv" -> patroniVenv = Path.of(args[++i]);
          case "--revision" -> revision = args[++i];
          default -> throw new IllegalArgumentException("unknown argument " + args[i]);
        }
      }
      if (fault == null) {
        throw new IllegalArgumentException("--fault is required");
      }
    } catch (ArrayIndexOutOfBoundsException e) {
      System.err.println("bench/peers: " + args[args.length - 1] + " needs a value; " + USAGE);
      System.exit(2);
      return;
    } catch (IllegalArgumentException e) {
      System.err.println("bench/peers: " + e.getMessage() + "; " + USAGE);
      System.exit(2);
      return;
    }

    String profile = settings.name().toLowerCase(Locale.ROOT);
    String faultName = fault.name().toLowerCase(Locale.ROOT);
    String label = "peers-" + faultName + (settings == Settings.DEFAULT ? "" : "-" + profile);
    Files.createDirectories(out);
    System.out.printf(
        "== %d drills per system, fault %s (%s), %s settings%n",
        drills, faultName, describe(fault), profile);
    List<String> rowLabels = new ArrayList<>();
    List<Drill> rows = new ArrayList<>();
    ArrayNode summary = Lab.JSON.createArrayNode();
    boolean ok = true;
    for (HaSystem system : systems) {
      Setup setup = Setup.of(system, settings);
      System.out.printf(
          "== %s: %s (%s); client: %s; replication: %s%n",
          system.cli, setup.settings(), setup.source(), setup.client(), setup.replication());
      System.out.printf(
          "%-17s %5s %9s %9s %7s %5s %6s%n",
          "system", "drill", "promoted", "downtime", "acked", "lost", "split");
      List<Drill> results = new ArrayList<>();
      Map<String, String> versions = new LinkedHashMap<>();
      for (int n = 1; n <= drills; n++) {
        Path dir = out.resolve(label + "-" + system.cli + "-" + n);
        Drill d;
        try {
          d =
              system == HaSystem.PGFAILOVER
                  // the same client as the peers': whole seconds (their multi-host URL needs them)
                  ? FailoverBench.drill(
                      n, fault, true, settings, settings.client.wholeSeconds(), dir, jar)
                  : peerDrill(n, system, fault, settings, dir, patroniVenv, versions);
        } catch (Exception e) {
          System.err.printf("%s drill %d could not run: %s%n", system.cli, n, e);
          ok = false;
          continue;
        }
        results.add(d);
        rowLabels.add(system.cli + " " + n);
        rows.add(d);
        System.out.printf(
            "%-17s %5d %9d %9d %7d %5d %6s%n",
            system.cli,
            n,
            d.promotedMs(),
            d.client().writeDowntimeMs(),
            d.client().acked(),
            d.client().lost(),
            d.client().splitBrain());
      }
      if (system == HaSystem.PGFAILOVER) {
        versions.put("pgfailover", pgfailoverVersion(jar, revision));
        ok &= results.stream().allMatch(Drill::failedOver);
        ok &= results.stream().noneMatch(d -> d.client().splitBrain());
      }
      versions.put(
          "postgresql",
          PeerCluster.versionOf(
              List.of(PgBinaries.locate().tool("postgres").toString(), "--version")));
      summary.add(summarize(system, fault, settings, setup, drills, results, versions));
    }
    Path svg = out.resolve(label + ".svg");
    Files.writeString(
        svg,
        TimelineChart.render(
            label + ": " + drills + " drills per system (ms since the fault)", rowLabels, rows));
    printTable(summary, svg);
    if (json) {
      summary.forEach(s -> ((ObjectNode) s).put("chart", svg.toString()));
      System.out.println(Lab.JSON.writeValueAsString(summary));
    }
    System.exit(ok ? 0 : 1);
  }

  static int parseDrills(String s) {
    try {
      int n = Integer.parseInt(s);
      if (n >= 1) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException("--drills is a whole number >= 1, got " + s);
  }

  static Fault parseFault(String s) {
    return switch (s) {
      case "kill" -> Fault.KILL;
      case "cut" -> Fault.CUT;
      case "freeze" -> Fault.FREEZE;
      default -> throw new IllegalArgumentException("--fault is kill, cut or freeze, got " + s);
    };
  }

  static Settings parseSettings(String s) {
    return switch (s) {
      case "default" -> Settings.DEFAULT;
      case "fast" -> Settings.FAST;
      default -> throw new IllegalArgumentException("--settings is default or fast, got " + s);
    };
  }

  private static String describe(Fault fault) {
    return switch (fault) {
      case KILL ->
          "SIGKILL of everything on the primary's host: PostgreSQL, and Patroni or pg_autoctl";
      case CUT -> "the primary host's link down";
      case FREEZE -> "SIGSTOP of everything on the primary's host";
      case AZ -> throw new IllegalArgumentException("az");
    };
  }

  /**
   * One drill against a peer: a fresh cluster, the client writing through multi-host, the fault on
   * host pgfo-a (its first primary), writes resuming on pgfo-b (or {@link #FAILOVER_LIMIT}), the
   * fault healed, {@value FailoverBench#AFTER_HEAL_MS} ms more writing.
   */
  static Drill peerDrill(
      int n,
      HaSystem system,
      Fault fault,
      Settings settings,
      Path dir,
      Path patroniVenv,
      Map<String, String> versions)
      throws Exception {
    boolean fast = settings == Settings.FAST;
    try (PeerCluster cluster =
        system == HaSystem.PATRONI
            ? PatroniCluster.start(
                dir,
                patroniVenv,
                fast ? PatroniCluster.Timing.FLOOR : PatroniCluster.Timing.DEFAULTS)
            : AutoFailoverCluster.start(
                dir,
                fast ? AutoFailoverCluster.Timing.FAST : AutoFailoverCluster.Timing.DEFAULTS)) {
      versions.putAll(cluster.versions());
      try (Connection c = NetnsCluster.connect(NetnsLab.IP_A);
          Statement st = c.createStatement()) {
        st.execute("CREATE TABLE bench_writes (id bigint PRIMARY KEY, node text NOT NULL)");
      }
      Waits.until(
          "the table to reach pgfo-b",
          PeerCluster.START_TIMEOUT,
          () -> PeerCluster.holds(NetnsLab.IP_B, "SELECT to_regclass('bench_writes') IS NOT NULL"));
      FailoverBench.Writer writer =
          new FailoverBench.Writer(
              // whole seconds for every system: a multi-host URL tries its hosts one after another
              () -> settings.client.wholeSeconds().openLabClient(PeerCluster.MULTI_HOST_URL),
              NODE_BY_ADDRESS);
      PromotionWatch watch = new PromotionWatch();
      Thread writing = new Thread(writer, "writer");
      Thread watching = new Thread(watch, "promotion-watch");
      writing.start();
      watching.start();
      try {
        Waits.until(
            "20 acknowledged writes through multi-host",
            Duration.ofSeconds(30),
            () -> writer.acks.size() >= 20);
        Instant faultAt = Instant.now();
        switch (fault) {
          case KILL -> NetnsLab.signalHost(NetnsLab.HOST_A, "KILL");
          case CUT -> NetnsLab.cut("a");
          case FREEZE -> NetnsLab.signalHost(NetnsLab.HOST_A, "STOP");
          case AZ -> throw new IllegalArgumentException("az");
        }
        boolean failedOver = true;
        try {
          Waits.until(
              "writes to resume on pgfo-b",
              FAILOVER_LIMIT,
              () -> writer.acksAfter(faultAt, "b") >= 20);
        } catch (IllegalStateException e) {
          failedOver = false;
          System.err.printf("%s drill %d: %s%n", system.cli, n, e.getMessage());
        }
        switch (fault) {
          case CUT -> NetnsLab.heal("a");
          case FREEZE -> NetnsLab.signalHost(NetnsLab.HOST_A, "CONT");
          default -> {}
        }
        Thread.sleep(FailoverBench.AFTER_HEAL_MS); // does the healed old primary ever answer?
        writer.stop.set(true);
        watch.stop.set(true);
        writing.join(10_000);
        watching.join(10_000);
        Optional<Set<Long>> stored = Optional.empty();
        if (failedOver) {
          try (Connection c = NetnsCluster.connect(NetnsLab.IP_B)) {
            stored = Optional.of(FailoverBench.storedIds(c));
          }
        }
        FailoverBench.ClientOutcome client =
            FailoverBench.ClientOutcome.of(writer.acks, faultAt, stored);
        long promoted =
            watch.promotedAt == null ? -1 : Duration.between(faultAt, watch.promotedAt).toMillis();
        // Only the promotion is seen, from the client host: no controller phases, no lease.
        return new Drill(n, faultAt, failedOver, -1, -1, promoted, -1, -1, client, -1, 0, -1);
      } finally {
        writer.stop.set(true);
        watch.stop.set(true);
        writing.join(10_000);
        watching.join(10_000);
      }
    }
  }

  /**
   * Samples pgfo-b every 100 ms from the client host and keeps the first time it answered as a
   * primary: when the peer promoted it, as an application could see it.
   */
  static final class PromotionWatch implements Runnable {
    final AtomicBoolean stop = new AtomicBoolean();
    volatile Instant promotedAt;

    @Override
    public void run() {
      Connection c = null;
      while (!stop.get() && promotedAt == null) {
        try {
          if (c == null) {
            c = NetnsCluster.connect(NetnsLab.IP_B);
          }
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT pg_is_in_recovery()")) {
            rs.next();
            if (!rs.getBoolean(1)) {
              promotedAt = Instant.now();
            }
          }
        } catch (SQLException e) {
          NumberedWriter.close(c);
          c = null;
        }
        try {
          Thread.sleep(100); // the sampling interval: the promotion time is known to 100 ms
        } catch (InterruptedException e) {
          break;
        }
      }
      NumberedWriter.close(c);
    }
  }

  private static ObjectNode summarize(
      HaSystem system,
      Fault fault,
      Settings settings,
      Setup setup,
      int drills,
      List<Drill> results,
      Map<String, String> versions) {
    ObjectNode s = Lab.JSON.createObjectNode();
    s.put("system", system.cli);
    s.put("fault", fault.name().toLowerCase(Locale.ROOT));
    ObjectNode set = s.putObject("settings");
    set.put("profile", settings.name().toLowerCase(Locale.ROOT));
    set.put("values", setup.settings());
    set.put("source", setup.source());
    s.put("client", setup.client());
    s.put("replication", setup.replication());
    s.put("drills", drills);
    s.put("drills_run", results.size());
    s.put("failovers_completed", results.stream().filter(Drill::failedOver).count());
    FailoverBench.putPercentiles(
        s, "write_downtime_ms", results, d -> d.client().writeDowntimeMs());
    FailoverBench.putPercentiles(s, "promoted_ms", results, Drill::promotedMs);
    s.put("acked_writes", results.stream().mapToLong(d -> d.client().acked()).sum());
    s.put(
        "lost_acked_writes", results.stream().mapToLong(d -> Math.max(0, d.client().lost())).sum());
    s.put("split_brain_seen", results.stream().anyMatch(d -> d.client().splitBrain()));
    ObjectNode v = s.putObject("versions");
    versions.forEach(v::put);
    return s;
  }

  private static void printTable(ArrayNode summary, Path svg) {
    System.out.printf(
        "%n%-17s %-26s %11s %5s %6s %9s  %s%n",
        "system",
        "write downtime p50/p95/max",
        "promoted p50",
        "lost",
        "split",
        "failed over",
        "versions");
    for (var s : summary) {
      System.out.printf(
          "%-17s %8d / %6d / %6d %11d %5d %6s %6d/%-3d  %s%n",
          s.path("system").asText(),
          s.path("write_downtime_ms_p50").asLong(),
          s.path("write_downtime_ms_p95").asLong(),
          s.path("write_downtime_ms_max").asLong(),
          s.path("promoted_ms_p50").asLong(),
          s.path("lost_acked_writes").asLong(),
          s.path("split_brain_seen").asBoolean() ? "yes" : "no",
          s.path("failovers_completed").asLong(),
          s.path("drills").asLong(),
          s.path("versions"));
    }
    System.out.println("== chart " + svg);
  }

  private static String pgfailoverVersion(Path jar, String revision) {
    try (JarFile j = new JarFile(jar.toFile())) {
      String v = j.getManifest().getMainAttributes().getValue("Implementation-Version");
      return (v == null ? "unknown" : v) + (revision.isBlank() ? "" : " (" + revision + ")");
    } catch (IOException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private PeersBench() {}
}
