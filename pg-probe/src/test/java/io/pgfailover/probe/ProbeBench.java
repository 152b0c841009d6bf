package io.pgfailover.probe;

import io.pgfailover.probe.internal.NodeQueries;
import io.pgfailover.probe.internal.ProbeConnections;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Benchmark, not a test (run by bench/probe.sh): probe latency p50/p99 and probes per second for 1,
 * 10 and 50 probed nodes, each round probing all nodes in parallel, on a real local pair. Compares
 * the two connection strategies: a new connection per probe (what PgProbe does) and one long-lived
 * connection per node running the same query. Last, how close to its deadline a probe of a frozen
 * node returns.
 */
public final class ProbeBench {

  private static final int[] NODE_COUNTS = {1, 10, 50};

  public static void main(String[] args) throws Exception {
    Duration measure = Duration.ofSeconds(intArg(args, "--seconds=", 3));
    Duration deadline = Duration.ofMillis(intArg(args, "--deadline-ms=", 1000));
    Duration warmup = Duration.ofSeconds(1);
    ProbeSettings settings = new ProbeSettings(deadline, deadline.dividedBy(2), false);
    try (PostgresPair pair = PostgresPair.start();
        PgProbe probe = new PgProbe(settings)) {
      System.out.printf(
          "# %d CPUs, Java %s, %s, deadline %d ms, %d s per row (after %d s warm-up)%n",
          Runtime.getRuntime().availableProcessors(),
          System.getProperty("java.version"),
          TestNodes.query(pair.primary(), "SELECT version()").replaceAll(" on .*", ""),
          deadline.toMillis(),
          measure.toSeconds(),
          warmup.toSeconds());
      System.out.printf(
          "%-20s %6s %9s %9s %9s %12s %9s%n",
          "strategy", "nodes", "probes", "p50_ms", "p99_ms", "probes/s", "failed");
      for (int n : NODE_COUNTS) {
        List<NodeEndpoint> nodes = endpoints(pair, n);
        run("new-connection", n, warmup, null, () -> probe.probeAll(nodes));
        Stats s = run("new-connection", n, measure, new Stats(), () -> probe.probeAll(nodes));
        s.print("new-connection", n);
      }
      for (int n : NODE_COUNTS) {
        try (ReusedConnections reused = new ReusedConnections(endpoints(pair, n), deadline)) {
          run("reused-connection", n, warmup, null, reused::probeAll);
          Stats s = run("reused-connection", n, measure, new Stats(), reused::probeAll);
          s.print("reused-connection", n);
        }
      }
      frozenNodeDeadlines(pair);
    }
  }

  /**
   * How close to its deadline a probe of a frozen node returns (FailureIT asserts only that it
   * returns, as TIMEOUT from that deadline): the figure behind "never hangs" on this machine.
   */
  private static void frozenNodeDeadlines(PostgresPair pair) {
    System.out.printf(
        "%n%-20s %11s %7s %12s %12s %12s%n",
        "frozen primary", "deadline_ms", "probes", "p50_ms", "max_ms", "max_over_ms");
    PgNode primary = pair.primary();
    for (int deadlineMs : new int[] {300, 1000, 1500}) {
      Duration deadline = Duration.ofMillis(deadlineMs);
      long[] took = new long[5];
      try (PgProbe probe = new PgProbe(new ProbeSettings(deadline, deadline.dividedBy(2), false))) {
        pair.freeze(primary);
        try {
          for (int i = 0; i < took.length; i++) {
            long start = System.nanoTime();
            probe.probe(TestNodes.endpoint(primary));
            took[i] = System.nanoTime() - start;
          }
        } finally {
          pair.thaw(primary);
        }
      }
      Arrays.sort(took);
      System.out.printf(
          "%-20s %11d %7d %12.1f %12.1f %12.1f%n",
          "timeout",
          deadlineMs,
          took.length,
          took[took.length / 2] / 1e6,
          took[took.length - 1] / 1e6,
          took[took.length - 1] / 1e6 - deadlineMs);
    }
  }

  /**
   * The same servers probed repeatedly: half the endpoints point at the primary, half at the
   * standby.
   */
  private static List<NodeEndpoint> endpoints(PostgresPair pair, int n) {
    List<NodeEndpoint> nodes = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      PgNode node = i % 2 == 0 ? pair.primary() : pair.standby();
      nodes.add(TestNodes.endpoint(node));
    }
    return nodes;
  }

  private interface Round {
    List<ProbeResult> probe() throws Exception;
  }

  private static Stats run(String name, int n, Duration length, Stats stats, Round round)
      throws Exception {
    long start = System.nanoTime();
    long end = start + length.toNanos();
    while (System.nanoTime() < end) {
      List<ProbeResult> results = round.probe();
      if (stats != null) {
        stats.add(results);
      }
    }
    if (stats != null) {
      stats.wallNanos = System.nanoTime() - start;
    }
    return stats;
  }

  private static final class Stats {
    private long[] latencies = new long[1024];
    private int count;
    private int failed;
    private long wallNanos;

    void add(List<ProbeResult> results) {
      for (ProbeResult r : results) {
        if (count == latencies.length) {
          latencies = Arrays.copyOf(latencies, count * 2);
        }
        latencies[count++] = r.latency().toNanos();
        if (!r.reachable()) {
          failed++;
        }
      }
    }

    void print(String strategy, int n) {
      long[] sorted = Arrays.copyOf(latencies, count);
      Arrays.sort(sorted);
      System.out.printf(
          "%-20s %6d %9d %9.2f %9.2f %12.0f %9d%n",
          strategy,
          n,
          count,
          percentile(sorted, 50),
          percentile(sorted, 99),
          count / (wallNanos / 1e9),
          failed);
    }

    private static double percentile(long[] sorted, int p) {
      int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
      return sorted[Math.max(0, index)] / 1e6;
    }
  }

  /** One open connection per node, the same query, the same parallelism and deadline as PgProbe. */
  private static final class ReusedConnections implements AutoCloseable {
    private final List<NodeEndpoint> nodes;
    private final Duration deadline;
    private final Connection[] connections;
    private final ExecutorService workers =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "bench-reused");
              t.setDaemon(true);
              return t;
            });

    ReusedConnections(List<NodeEndpoint> nodes, Duration deadline) throws SQLException {
      this.nodes = nodes;
      this.deadline = deadline;
      this.connections = new Connection[nodes.size()];
      for (int i = 0; i < nodes.size(); i++) {
        connections[i] = ProbeConnections.open(nodes.get(i), deadline);
      }
    }

    List<ProbeResult> probeAll() throws Exception {
      long deadlineNanos = System.nanoTime() + deadline.toNanos();
      List<Future<ProbeResult>> futures = new ArrayList<>();
      for (int i = 0; i < nodes.size(); i++) {
        int index = i;
        futures.add(workers.submit(() -> observe(index)));
      }
      List<ProbeResult> results = new ArrayList<>();
      for (Future<ProbeResult> f : futures) {
        results.add(f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS));
      }
      return results;
    }

    private ProbeResult observe(int i) {
      long start = System.nanoTime();
      NodeEndpoint node = nodes.get(i);
      try {
        NodeQueries.Observation o = NodeQueries.observe(connections[i]);
        return PgProbe.reachableResult(
            node.name(),
            java.time.Instant.now(),
            Duration.ofNanos(System.nanoTime() - start),
            o,
            java.util.Optional.empty());
      } catch (SQLException e) {
        return ProbeResult.unreachable(
            node.name(),
            java.time.Instant.now(),
            Duration.ofNanos(System.nanoTime() - start),
            Reachability.OTHER,
            e.toString());
      }
    }

    @Override
    public void close() throws SQLException {
      workers.shutdownNow();
      for (Connection c : connections) {
        c.close();
      }
    }
  }

  private static int intArg(String[] args, String prefix, int defaultValue) {
    for (String a : args) {
      if (a.startsWith(prefix)) {
        return Integer.parseInt(a.substring(prefix.length()));
      }
    }
    return defaultValue;
  }
}
