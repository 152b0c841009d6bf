package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgBinaries;
import io.pgfailover.testsupport.pg.ProcessLauncher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A two-node PostgreSQL cluster run by another failover tool (Patroni, pg_auto_failover) on the
 * netns lab, fresh for one drill of {@code bench/peers.sh}: PostgreSQL and the tool's agent on
 * pgfo-a (the first primary) and pgfo-b, the tool's coordinator (etcd, the monitor) on pgfo-ctl.
 * Every process runs as the PostgreSQL OS user inside its host's namespace; closing kills every
 * process on those three hosts (the bench holds the lab's lock, so they are all ours), keeps the
 * logs and deletes the data.
 */
abstract class PeerCluster implements AutoCloseable {
  static final Duration START_TIMEOUT = Duration.ofSeconds(120);
  static final List<String> HOSTS = List.of(NetnsLab.HOST_A, NetnsLab.HOST_B, NetnsLab.CONTROLLER);

  /** The client's way to the primary: libpq-style multi-host, the first writable server. */
  static final String MULTI_HOST_URL =
      "jdbc:postgresql://"
          + NetnsLab.IP_A
          + ":5432,"
          + NetnsLab.IP_B
          + ":5432/postgres?targetServerType=primary";

  private static final Pattern VERSION = Pattern.compile("\\d+(\\.\\d+)+");

  final Path dir;
  final PgBinaries pg = PgBinaries.locate();
  private final ProcessLauncher launcher = ProcessLauncher.detect();
  private final Path sockets;
  private final List<Path> dataDirs = new ArrayList<>();

  PeerCluster(Path dir) throws IOException {
    this.dir = dir;
    deleteTree(dir); // logs of an earlier run with the same drill name
    Files.createDirectories(dir);
    // Unix sockets stay per host, in a short path (sun_path holds 107 bytes): the hosts share one
    // filesystem, and PostgreSQL's default /var/run/postgresql would be the same lock for both.
    this.sockets = Files.createTempDirectory("pgfo-peer-");
    for (String host : HOSTS) {
      Files.createDirectories(sockets.resolve(host));
    }
    launcher.chownToServerUser(sockets);
  }

  /** The unix-socket directory of a host. */
  Path socketDir(String host) {
    return sockets.resolve(host);
  }

  /** A directory the PostgreSQL OS user owns, deleted by {@link #close}. */
  Path dataDir(String name) throws IOException {
    Path d = dir.resolve(name);
    Files.createDirectories(d);
    launcher.chownToServerUser(d);
    dataDirs.add(d);
    return d;
  }

  /** Starts a long-running agent on a host as the PostgreSQL OS user, output to {@code log}. */
  Process startOn(String host, String log, List<String> argv, Map<String, String> env)
      throws IOException {
    return launcher.inNetns(Optional.of(host)).start(argv, dir.resolve(log), env);
  }

  /** Runs a setup command on a host to completion; a failure throws with its output's end. */
  void runOn(String host, String log, List<String> argv, Map<String, String> env) {
    launcher.inNetns(Optional.of(host)).run(argv, dir.resolve(log), env, START_TIMEOUT);
  }

  /**
   * Waits until node a is a writable primary and node b a standby whose WAL receiver streams (from
   * a: the lab has no other server). Asked of b, not of a's pg_stat_replication, where a
   * pg_basebackup still cloning b streams too.
   */
  static void awaitPrimaryOnAWithStandby() {
    Waits.until(
        "pgfo-a primary with pgfo-b streaming from it",
        START_TIMEOUT,
        () ->
            holds(NetnsLab.IP_A, "SELECT NOT pg_is_in_recovery()")
                && holds(
                    NetnsLab.IP_B,
                    "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver"
                        + " WHERE status = 'streaming')"));
  }

  /** Runs a one-row boolean query in database postgres on a server of the lab; no row is false. */
  static boolean holds(String ip, String sql) throws SQLException {
    return holdsIn("jdbc:postgresql://" + ip + ":5432/postgres", sql);
  }

  /** Runs a one-row boolean query on the database at a JDBC URL; no row is false. */
  static boolean holdsIn(String url, String sql) throws SQLException {
    try (Connection c = NetnsCluster.connectUrl(url);
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /** The tool's versions, for the report: name to version line. */
  abstract Map<String, String> versions();

  @Override
  public void close() {
    try {
      for (String host : HOSTS) {
        NetnsLab.signalHost(host, "KILL"); // a stopped (frozen) process dies too
      }
      NetnsLab.heal("a");
      Waits.until(
          "the peer's processes to exit",
          Duration.ofSeconds(30),
          () -> HOSTS.stream().allMatch(h -> NetnsLab.hostPids(h).isEmpty()));
      for (Path d : dataDirs) {
        keepServerLog(d);
        deleteTree(d);
      }
    } finally {
      deleteTree(sockets); // outside the drill directory: nothing else would remove it
    }
  }

  /**
   * Moves PostgreSQL's own log directory (logging_collector) out of a data tree before deletion.
   */
  private void keepServerLog(Path data) {
    try (Stream<Path> logs = Files.find(data, 3, (p, a) -> a.isDirectory() && isLogDir(p))) {
      for (Path log : logs.toList()) {
        Path to = dir.resolve(data.getFileName() + "-" + log.getParent().getFileName() + "-log");
        Files.move(log, to);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the server log under " + data, e);
    }
  }

  private static boolean isLogDir(Path p) {
    return p.getFileName().toString().equals("log") && Files.exists(p.resolveSibling("PG_VERSION"));
  }

  static void deleteTree(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }

  /**
   * The version a command prints (the first dotted number of its first line, e.g. "4.1.5" from
   * "patroni 4.1.5"), or its first line when it has none.
   */
  static String versionOf(List<String> argv) {
    try {
      Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      p.waitFor(10, TimeUnit.SECONDS);
      String first = out.lines().findFirst().orElse("");
      Matcher m = VERSION.matcher(first);
      return m.find() ? m.group() : first;
    } catch (IOException e) {
      return "(cannot run " + argv.get(0) + ": " + e.getMessage() + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
