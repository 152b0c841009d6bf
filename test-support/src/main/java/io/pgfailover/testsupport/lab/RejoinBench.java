package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.testsupport.pg.PairLayout;
import io.pgfailover.testsupport.pg.PgBinaries;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * {@code bench/rejoin.sh}: how long until two nodes stream again after the primary's host crashed,
 * by database size (pgbench data) and rejoin method. Each case is a fresh netns lab pair with a
 * node agent on each host and the controller's {@code rejoin: automatic}: pgbench data loaded on
 * the primary, the standby caught up, the primary's host crashed (PostgreSQL and its agent
 * SIGKILLed), the failover awaited, the host brought back (PostgreSQL as it was left, then its
 * agent), and the old primary's streaming from the new one awaited. {@code rewind}: the servers
 * have wal_log_hints on and the agents may not re-clone; {@code reclone}: wal_log_hints off (no
 * checksums), so pg_rewind refuses and the agents re-clone ({@code rejoin.reclone: true}).
 */
public final class RejoinBench {
  /** A database size: the pgbench scale that gives it (pgbench's ~15 MB per scale unit). */
  enum Size {
    MB100("100MB", 7),
    GB1("1GB", 68);

    final String label;
    final int scale;

    Size(String label, int scale) {
      this.label = label;
      this.scale = scale;
    }

    static Size of(String s) {
      for (Size z : values()) {
        if (z.label.equalsIgnoreCase(s)) {
          return z;
        }
      }
      throw new IllegalArgumentException("--sizes takes 100MB and 1GB, got " + s);
    }
  }

  enum Method {
    REWIND,
    RECLONE
  }

  private RejoinBench() {}

  public static void main(String[] args) throws Exception {
    List<Size> sizes = List.of(Size.MB100, Size.GB1);
    List<Method> methods = List.of(Method.REWIND, Method.RECLONE);
    boolean json = false;
    Path out = Path.of("bench/out");
    Path jar = Path.of("controller/target/failoverctl.jar");
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--sizes" -> sizes = List.of(args[++i].split(",")).stream().map(Size::of).toList();
        case "--methods" ->
            methods =
                List.of(args[++i].split(",")).stream()
                    .map(m -> Method.valueOf(m.toUpperCase(Locale.ROOT)))
                    .toList();
        case "--json" -> json = true;
        case "--out" -> out = Path.of(args[++i]);
        case "--jar" -> jar = Path.of(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown argument "
                    + args[i]
                    + "; usage: [--sizes 100MB,1GB] [--methods rewind,reclone] [--json] [--out DIR]"
                    + " [--jar JAR]");
      }
    }
    Files.createDirectories(out);
    System.out.printf(
        "%-6s %-8s %6s %15s %17s %13s %10s %-7s%n",
        "size",
        "method",
        "db_MB",
        "fault-to-2-nodes",
        "host-back-to-stream",
        "agent-rejoin",
        "copy-step",
        "done-by");
    ArrayNode rows = Lab.JSON.createArrayNode();
    boolean ok = true;
    for (Size size : sizes) {
      for (Method method : methods) {
        ObjectNode r = run(size, method, out.resolve("rejoin-" + size.label + "-" + method), jar);
        rows.add(r);
        ok &= r.path("rejoined").asBoolean();
        System.out.printf(
            "%-6s %-8s %6d %12d ms %16d ms %10d ms %7d ms %-7s%n",
            size.label,
            method.name().toLowerCase(Locale.ROOT),
            r.path("db_bytes").asLong() / (1024 * 1024),
            r.path("rejoined_ms").asLong(),
            r.path("streaming_after_host_back_ms").asLong(),
            r.path("agent_rejoin_ms").asLong(),
            r.path("copy_ms").asLong(),
            r.path("method").asText());
      }
    }
    if (json) {
      System.out.println(Lab.JSON.writeValueAsString(rows));
    }
    System.exit(ok ? 0 : 1);
  }

  private static ObjectNode run(Size size, Method method, Path dir, Path jar) throws Exception {
    NetnsCluster.Options options =
        NetnsCluster.Options.of(false, LabConfig.DEFAULT_PROBE, LabConfig.DEFAULT_FAILOVER);
    if (method == Method.RECLONE) {
      options = options.withRewind(PairLayout.Rewind.NO_HINTS, true);
    }
    ObjectNode r = Lab.JSON.createObjectNode();
    r.put("size", size.label);
    r.put("wanted_method", method.name().toLowerCase(Locale.ROOT));
    try (NetnsCluster lab = NetnsCluster.start(dir, jar, options)) {
      PgNode a = lab.pair().nodeA();
      pgbenchInit(a, size.scale, dir.resolve("pgbench.log"));
      r.put(
          "db_bytes", Long.parseLong(RejoinMatrix.query(a, "SELECT pg_database_size('postgres')")));
      lab.startController();
      lab.awaitStreaming(a, lab.pair().nodeB(), RejoinDrill.LIMIT);
      RejoinDrill d = RejoinDrill.run(lab, a);
      r.put("rejoined", true);
      r.put("rejoined_ms", d.rejoinedMs());
      r.put("streaming_after_host_back_ms", d.streamingAfterHostBackMs());
      r.put("method", d.finished().path("method").asText());
      r.put("agent_rejoin_ms", d.finished().path("ms").asLong());
      r.put(
          "copy_ms",
          d.finished().path(method == Method.RECLONE ? "recloning_ms" : "rewinding_ms").asLong(-1));
      r.set("finished", d.finished());
    } catch (IllegalStateException e) {
      System.err.println(size.label + " " + method + ": " + e.getMessage());
      r.put("rejoined", false);
      r.put("error", e.getMessage());
    }
    return r;
  }

  /** {@code pgbench -i -s SCALE} on {@code node}, from this host (pgfo-cli), as the superuser. */
  private static void pgbenchInit(PgNode node, int scale, Path log) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                PgBinaries.locate().tool("pgbench").toString(),
                "-i",
                "-q",
                "-s",
                Integer.toString(scale),
                "-h",
                node.host(),
                "-p",
                Integer.toString(node.port()),
                "-U",
                PostgresPair.SUPERUSER,
                "postgres")
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("PGPASSWORD", PostgresPair.SUPERUSER_PASSWORD);
    Process p = pb.start();
    if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(
          "pgbench -i -s " + scale + " failed: " + Files.readString(log, StandardCharsets.UTF_8));
    }
  }
}
