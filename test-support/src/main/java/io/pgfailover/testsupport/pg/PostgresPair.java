package io.pgfailover.testsupport.pg;

import io.pgfailover.testsupport.Waits;
import io.pgfailover.testsupport.pg.PgNode.Role;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real PostgreSQL primary and a streaming-replication standby on free loopback ports, with data
 * under {@code target/pg-clusters/<id>/}. Usable without JUnit (benchmarks, demos): {@code try
 * (PostgresPair pair = PostgresPair.start()) { ... }}. Every wait is for a condition with a
 * deadline.
 */
public final class PostgresPair implements AutoCloseable {

  public static final String SUPERUSER = "postgres";

  /**
   * A test-only constant: these clusters live for one test class on loopback and are then deleted.
   */
  public static final String SUPERUSER_PASSWORD = "pgfailover-test";

  /** Overrides where clusters are created; default {@code <working dir>/target/pg-clusters}. */
  public static final String CLUSTERS_DIR_PROPERTY = "pgfailover.pgClustersDir";

  private static final Logger log = LoggerFactory.getLogger(PostgresPair.class);
  private static final Duration STARTUP_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(120);
  private static final AtomicInteger SEQUENCE = new AtomicInteger();
  private static final Set<PostgresPair> LIVE = ConcurrentHashMap.newKeySet();

  static {
    // A JVM that exits without afterAll (Ctrl-C, System.exit) still stops its servers; SIGKILL of
    // the JVM is
    // covered by the sweep at the next start.
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(() -> List.copyOf(LIVE).forEach(PostgresPair::close), "pg-pair-cleanup"));
  }

  private final Path clusterDir;
  private final Path logArchiveDir;
  private final PgBinaries binaries;
  private final ProcessLauncher launcher;
  private final PairLayout layout;
  private final List<PgNode> nodes;
  private volatile boolean closed;

  private PostgresPair(
      Path clusterDir,
      Path logArchiveDir,
      PgBinaries binaries,
      ProcessLauncher launcher,
      PairLayout layout,
      List<PgNode> nodes) {
    this.clusterDir = clusterDir;
    this.logArchiveDir = logArchiveDir;
    this.binaries = binaries;
    this.launcher = launcher;
    this.layout = layout;
    this.nodes = nodes;
  }

  /** Starts a pair under the default clusters directory. */
  public static PostgresPair start() {
    return start(clustersRoot());
  }

  /** Where pairs are created: {@value #CLUSTERS_DIR_PROPERTY}, else target/pg-clusters. */
  static Path clustersRoot() {
    String dir = System.getProperty(CLUSTERS_DIR_PROPERTY);
    return dir != null
        ? Path.of(dir)
        : Path.of(System.getProperty("user.dir"), "target", "pg-clusters");
  }

  /**
   * Starts a loopback pair under {@code clustersRoot}, first removing clusters left there by dead
   * JVMs.
   */
  public static PostgresPair start(Path clustersRoot) {
    return start(clustersRoot, PairLayout.loopback());
  }

  /** Starts a pair placed as {@code layout} says, under {@code clustersRoot}. */
  public static PostgresPair start(Path clustersRoot, PairLayout layout) {
    PgBinaries binaries = PgBinaries.locate();
    ProcessLauncher launcher = ProcessLauncher.detect();
    Path root = clustersRoot.toAbsolutePath().normalize();
    StaleClusters.sweep(root);
    String id =
        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
            + "-"
            + ProcessHandle.current().pid()
            + "-"
            + SEQUENCE.incrementAndGet();
    Path clusterDir = root.resolve(id);
    PairLayout.Place pa = layout.nodes().get(0);
    PairLayout.Place pb = layout.nodes().get(1);
    List<PgNode> nodes =
        List.of(
            new PgNode(
                "a",
                pa.host(),
                pa.port(),
                clusterDir.resolve("a"),
                clusterDir.resolve("a.log"),
                Role.PRIMARY),
            new PgNode(
                "b",
                pb.host(),
                pb.port(),
                clusterDir.resolve("b"),
                clusterDir.resolve("b.log"),
                Role.STANDBY));
    PostgresPair pair =
        new PostgresPair(
            clusterDir,
            root.resolveSibling("pg-cluster-logs").resolve(id),
            binaries,
            launcher,
            layout,
            nodes);
    LIVE.add(pair);
    try {
      pair.create();
      return pair;
    } catch (RuntimeException | Error e) {
      pair.close();
      throw e;
    }
  }

  private void create() {
    long started = System.nanoTime();
    try {
      Files.createDirectories(clusterDir);
      StaleClusters.writeOwner(clusterDir);
      Path pwfile = clusterDir.resolve("pwfile");
      Files.writeString(pwfile, SUPERUSER_PASSWORD + "\n", StandardCharsets.UTF_8);
      launcher.chownToServerUser(clusterDir);
      PgNode a = nodes.get(0);
      launcher.run(
          List.of(
              binaries.tool("initdb").toString(),
              "-D",
              a.dataDir().toString(),
              "-U",
              SUPERUSER,
              "--auth=scram-sha-256",
              "--pwfile=" + pwfile,
              "-E",
              "UTF8",
              "--no-locale",
              "--no-sync"),
          a.logFile(),
          Map.of(),
          TOOL_TIMEOUT);
      Files.delete(pwfile);
      Files.writeString(
          a.dataDir().resolve("postgresql.conf"), serverConfig(layout), StandardOpenOption.APPEND);
      Files.writeString(
          a.dataDir().resolve("pg_hba.conf"),
          hba(layout.clientNetwork()),
          StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create cluster in " + clusterDir, e);
    }
    start(nodes.get(0));
    recreateStandby(nodes.get(1));
    log.info(
        "event=pg_pair_started dir={} a_port={} b_port={} elapsed_ms={}",
        clusterDir,
        nodes.get(0).port(),
        nodes.get(1).port(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
  }

  // Short receiver/sender timeouts keep pg_stat_wal_receiver.last_msg_receipt_time fresh (the
  // receiver asks for
  // a keepalive after wal_receiver_timeout/2 of silence) and make a lost primary visible within
  // seconds.
  // pg_rewind needs full_page_writes on the source, wal_log_hints (or checksums) on the target, and
  // the target's WAL back to its last checkpoint before the fork: a checkpoint after the fork (the
  // clean stop before the rewind is one) removes older segments unless wal_keep_size keeps them.
  private static String serverConfig(PairLayout layout) {
    PairLayout.Rewind rewind = layout.rewind();
    return String.join(
        "\n",
        "",
        "# pgfailover test harness",
        "listen_addresses = '" + layout.listenAddresses() + "'",
        "unix_socket_directories = ''",
        "fsync = off",
        "full_page_writes = " + (rewind == PairLayout.Rewind.OFF ? "off" : "on"),
        "wal_log_hints = " + (rewind == PairLayout.Rewind.ON ? "on" : "off"),
        "wal_keep_size = " + (rewind == PairLayout.Rewind.OFF ? "0" : "'256MB'"),
        "max_wal_size = '256MB'",
        "wal_level = replica",
        "max_wal_senders = 5",
        "max_replication_slots = 5",
        "hot_standby = on",
        "wal_receiver_status_interval = 1s",
        "wal_receiver_timeout = 4s",
        "wal_sender_timeout = 4s",
        "wal_retrieve_retry_interval = 500ms",
        "max_connections = 120",
        "shared_buffers = 16MB",
        "logging_collector = off",
        "log_line_prefix = '%m [%p] '",
        "");
  }

  private static String hba(String clientNetwork) {
    return String.join(
        "\n",
        "# pgfailover test harness: TCP from the harness's network only, SCRAM everywhere",
        "host all all " + clientNetwork + " scram-sha-256",
        "host replication all " + clientNetwork + " scram-sha-256",
        "");
  }

  public PairLayout layout() {
    return layout;
  }

  /** The launcher for a node's own processes: inside its namespace when it has one. */
  private ProcessLauncher launcher(PgNode node) {
    return launcher.inNetns(layout.nodes().get(nodes.indexOf(node)).netns());
  }

  // ---- nodes and roles

  public List<PgNode> nodes() {
    return nodes;
  }

  public PgNode nodeA() {
    return nodes.get(0);
  }

  public PgNode nodeB() {
    return nodes.get(1);
  }

  /** The node the harness knows as the current primary. */
  public PgNode primary() {
    return only(Role.PRIMARY);
  }

  /** The node the harness knows as the current standby. */
  public PgNode standby() {
    return only(Role.STANDBY);
  }

  /** The node that is not {@code node}. */
  public PgNode other(PgNode node) {
    return node == nodes.get(0) ? nodes.get(1) : nodes.get(0);
  }

  public Path clusterDir() {
    return clusterDir;
  }

  private PgNode only(Role role) {
    List<PgNode> matching = nodes.stream().filter(n -> n.role() == role).toList();
    if (matching.size() != 1) {
      throw new IllegalStateException(
          "expected exactly one "
              + role
              + " but nodes are "
              + nodes
              + (role == Role.STANDBY ? "; after a promotion call recreateStandby()" : "")
              + "; after a promotion outside the harness call refreshRoles()");
    }
    return matching.get(0);
  }

  /**
   * Re-reads roles from the running servers, for promotions done outside the harness (e.g. by the
   * product). A running node in recovery is a standby; of the running primaries the one on the
   * highest timeline is the primary; every other node that is not a running standby is detached.
   * Without a running primary nothing changes.
   */
  public synchronized void refreshRoles() {
    PgNode newest = null;
    long newestTimeline = -1;
    for (PgNode n : nodes) {
      if (!n.isRunning() || n.isFrozen()) {
        continue;
      }
      try (Connection c = n.connect();
          Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT pg_is_in_recovery(), CASE WHEN NOT pg_is_in_recovery() THEN ('x' ||"
                      + " substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::bigint"
                      + " END")) {
        rs.next();
        if (rs.getBoolean(1)) {
          n.role(Role.STANDBY);
        } else if (rs.getLong(2) > newestTimeline) {
          newestTimeline = rs.getLong(2);
          newest = n;
        }
      } catch (SQLException e) {
        throw new IllegalStateException("cannot read the role of " + n + ": " + e.getMessage(), e);
      }
    }
    if (newest == null) {
      return;
    }
    for (PgNode n : nodes) {
      if (n == newest) {
        n.role(Role.PRIMARY);
      } else if (!(n.isRunning() && n.role() == Role.STANDBY)) {
        n.role(Role.DETACHED);
      }
    }
  }

  // ---- operations

  /**
   * SIGKILLs the current primary (postmaster and its children, like a host crash) and returns it.
   */
  public PgNode killPrimary() {
    PgNode p = primary();
    kill(p);
    return p;
  }

  /**
   * SIGKILLs the postmaster and all its children, like a crash of the host, and returns once the
   * postmaster is reaped, its children are gone and its port refuses connections.
   */
  public synchronized void kill(PgNode node) {
    OptionalLong running = node.postmasterPid();
    if (running.isEmpty()) {
      node.postmaster(null);
      return;
    }
    long pm = running.getAsLong();
    List<Long> children = Procs.children(pm);
    List<Long> all = new ArrayList<>(List.of(pm));
    all.addAll(children); // postmaster first, so it cannot react to its children's death
    ProcessLauncher.signal("KILL", all);
    awaitExit(pm, node);
    Waits.until(
        "children of " + node + " to exit",
        STARTUP_TIMEOUT,
        () -> children.stream().noneMatch(Procs::isRunning));
    Waits.until(
        "port " + node.port() + " of " + node + " to close", STARTUP_TIMEOUT, () -> !accepts(node));
    node.postmaster(null);
    node.frozen(false);
    log.info("event=pg_node_killed node={} pid={}", node.name(), pm);
  }

  /**
   * SIGSTOPs the postmaster and every child. Each backend is its own process-group leader
   * (PostgreSQL calls setsid() in every child), and a stopped postmaster alone still lets existing
   * backends answer, so every process is stopped by PID. The postmaster goes first so it forks
   * nothing new meanwhile.
   */
  public synchronized void freeze(PgNode node) {
    long pm = node.pid();
    // One kill for the postmaster and its children, as a host or VM that stops stops them all at
    // once: stopped in two runs of kill, the children (WAL sender, sessions) went on for tens of ms
    // after the postmaster. A second pass catches a child forked meanwhile.
    List<Long> all = new java.util.ArrayList<>(List.of(pm));
    all.addAll(Procs.children(pm));
    ProcessLauncher.signal("STOP", all);
    ProcessLauncher.signal("STOP", Procs.children(pm));
    node.frozen(true);
    log.info("event=pg_node_frozen node={} pid={}", node.name(), pm);
  }

  /** SIGCONTs the children and then the postmaster. */
  public synchronized void thaw(PgNode node) {
    long pm = node.pid();
    ProcessLauncher.signal("CONT", Procs.children(pm));
    ProcessLauncher.signal("CONT", List.of(pm));
    node.frozen(false);
    log.info("event=pg_node_thawed node={} pid={}", node.name(), pm);
  }

  /** Fast shutdown (SIGINT) and waits for the postmaster to exit. */
  public synchronized void stop(PgNode node) {
    OptionalLong running = node.postmasterPid();
    if (running.isEmpty()) {
      node.postmaster(null);
      return;
    }
    if (node.isFrozen()) {
      thaw(node);
    }
    long pm = running.getAsLong();
    ProcessLauncher.signal("INT", List.of(pm));
    awaitExit(pm, node);
    node.postmaster(null);
    log.info("event=pg_node_stopped node={} pid={}", node.name(), pm);
  }

  /**
   * Starts a stopped node and waits until it accepts connections (a standby: once it is
   * consistent).
   */
  public synchronized void start(PgNode node) {
    if (node.isRunning()) {
      return;
    }
    Procs.removeStalePidFile(node.dataDir());
    try {
      node.postmaster(launcher(node).start(serverCommand(node), node.logFile(), Map.of()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start postgres for " + node, e);
    }
    awaitAnswer(
        node,
        "to accept connections",
        "SELECT pg_is_in_recovery()",
        rs -> rs.next() && rs.getBoolean(1) == (node.role() == Role.STANDBY));
    log.info(
        "event=pg_node_started node={} pid={} port={} role={}",
        node.name(),
        node.pid(),
        node.port(),
        node.role());
  }

  /**
   * The postgres command line for a node: the only place that says how a server is started. {@code
   * cluster_name} lets a client ask which server answered ({@code
   * current_setting('cluster_name')}).
   */
  List<String> serverCommand(PgNode node) {
    List<String> argv =
        new ArrayList<>(
            List.of(binaries.tool("postgres").toString(), "-D", node.dataDir().toString()));
    argv.addAll(serverOptions(node));
    return argv;
  }

  /**
   * The server options beside its data directory, for whoever else starts a node (the lab's node
   * agents pass them through {@code pg_ctl -o}).
   */
  public static List<String> serverOptions(PgNode node) {
    return List.of("-p", Integer.toString(node.port()), "-c", "cluster_name=" + node.name());
  }

  /** The argv that runs a PostgreSQL tool as the servers' OS user, when there is one. */
  public List<String> asServerUser(List<String> argv) {
    return launcher.commandLine(argv);
  }

  /** The OS user the servers run as, when the harness runs as root. */
  public java.util.Optional<String> osUser() {
    return launcher.osUser();
  }

  public PgBinaries binaries() {
    return binaries;
  }

  /** Promotes a standby by hand ({@code pg_promote}) and waits for it to leave recovery. */
  public synchronized void promote(PgNode node) {
    try (Connection c = node.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_promote(true, 60)")) {
      rs.next();
      if (!rs.getBoolean(1)) {
        throw new IllegalStateException("pg_promote on " + node + " did not finish within 60 s");
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot promote " + node + ": " + e.getMessage(), e);
    }
    for (PgNode n : nodes) {
      if (n != node && n.role() == Role.PRIMARY) {
        n.role(Role.DETACHED);
      }
    }
    node.role(Role.PRIMARY);
    log.info("event=pg_node_promoted node={}", node.name());
  }

  /**
   * Re-makes the one node that is not the primary as a streaming standby of the current primary.
   */
  public void recreateStandby() {
    PgNode primary = primary();
    recreateStandby(other(primary));
  }

  /**
   * Discards {@code node}'s data and re-makes it from the current primary with pg_basebackup
   * (replication slot named after the node, {@code -R}), then starts it and waits until its WAL
   * receiver streams.
   */
  public synchronized void recreateStandby(PgNode node) {
    PgNode primary = other(node);
    if (primary.role() != Role.PRIMARY || !primary.isRunning()) {
      throw new IllegalStateException(
          "cannot re-make "
              + node
              + " as a standby: "
              + primary
              + " is not a running"
              + " primary");
    }
    kill(node); // its data is about to be deleted, so no clean shutdown is needed
    deleteRecursively(node.dataDir());
    String slot = slotName(node);
    try (Connection c = primary.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE"
                    + " slot_name = ?")) {
      ps.setString(1, slot);
      ps.executeQuery().close();
    } catch (SQLException e) {
      throw new IllegalStateException(
          "cannot drop old slot " + slot + " on " + primary + ": " + e.getMessage(), e);
    }
    launcher(node)
        .run(
            List.of(
                binaries.tool("pg_basebackup").toString(),
                "-h",
                primary.host(),
                "-p",
                Integer.toString(primary.port()),
                "-U",
                SUPERUSER,
                // -R copies it into primary_conninfo: the standby is known by its config name
                // (synchronous_standby_names, pg_stat_replication), as the agent's rejoin writes
                // it.
                "-d",
                "application_name=" + configName(node),
                "-D",
                node.dataDir().toString(),
                "-R",
                "-X",
                "stream",
                "-C",
                "-S",
                slot,
                "--checkpoint=fast",
                "--no-sync"),
            node.logFile(),
            Map.of("PGPASSWORD", SUPERUSER_PASSWORD),
            TOOL_TIMEOUT);
    node.role(Role.STANDBY);
    start(node);
    awaitStreaming(node);
  }

  /**
   * Runs a psql script on {@code node} as the superuser, the script on standard input (as an
   * operator pipes config/roles.sql with its password variables), and returns psql's output. Throws
   * when psql fails (ON_ERROR_STOP is on).
   */
  public String psql(PgNode node, String script) {
    return psql(node, script, List.of());
  }

  /**
   * The same, with psql run on {@code node}'s own host (its network namespace, when it has one): it
   * reaches the node while the node's link to everything else is down.
   */
  public String psqlOnHost(PgNode node, String script) {
    return psql(
        node,
        script,
        layout
            .nodes()
            .get(nodes.indexOf(node))
            .netns()
            .map(ns -> List.of("ip", "netns", "exec", ns))
            .orElse(List.of()));
  }

  private String psql(PgNode node, String script, List<String> prefix) {
    List<String> argv = new ArrayList<>(prefix);
    argv.addAll(
        List.of(
            binaries.tool("psql").toString(),
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            node.host(),
            "-p",
            Integer.toString(node.port()),
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-f",
            "-"));
    ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
    pb.environment().put("PGPASSWORD", SUPERUSER_PASSWORD);
    try {
      Process p = pb.start();
      try (var in = p.getOutputStream()) {
        in.write(script.getBytes(StandardCharsets.UTF_8));
      }
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(TOOL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException("psql on " + node + " did not finish: " + out);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            "psql on " + node + " exited " + p.exitValue() + ":\n" + out);
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run psql on " + node, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running psql on " + node, e);
    }
  }

  /**
   * Makes the pair a running primary with a streaming standby again, whatever a test left: frozen
   * nodes thawed, a stopped primary restarted, a node that is not a streaming standby re-made.
   */
  public synchronized void restoreHealthy() {
    for (PgNode n : nodes) {
      if (n.isFrozen()) {
        thaw(n);
      }
    }
    // A killed primary restarts (crash recovery); a standby that is not streaming from it is
    // re-made.
    nodes.stream().filter(n -> !n.isRunning() && n.role() == Role.PRIMARY).forEach(this::start);
    refreshRoles();
    PgNode primary = primary();
    PgNode other = other(primary);
    if (!other.isRunning() || other.role() != Role.STANDBY) {
      recreateStandby(other);
    } else {
      awaitStreaming(other);
    }
  }

  /** Waits until a standby's WAL receiver streams from the primary. */
  public void awaitStreaming(PgNode standby) {
    awaitAnswer(
        standby,
        "to stream WAL",
        "SELECT status FROM pg_stat_wal_receiver",
        rs -> rs.next() && "streaming".equals(rs.getString(1)));
  }

  /** What a query's answer must show. */
  @FunctionalInterface
  private interface Answer {
    boolean holds(ResultSet rs) throws SQLException;
  }

  /**
   * Waits until {@code sql} on {@code node} gives an answer that holds; stops at once if the server
   * exits.
   */
  private static void awaitAnswer(PgNode node, String what, String sql, Answer answer) {
    Waits.until(
        node + " " + what,
        STARTUP_TIMEOUT,
        () -> {
          requireAlive(node);
          try (Connection c = node.connect();
              Statement s = c.createStatement();
              ResultSet rs = s.executeQuery(sql)) {
            return answer.holds(rs);
          }
        });
  }

  /** A node's name in the lab's and the tests' controller configs: pg-a, pg-b. */
  public static String configName(PgNode node) {
    return "pg-" + node.name();
  }

  static String slotName(PgNode node) {
    return "pgfailover_node_" + node.name();
  }

  // ---- cleanup

  /**
   * Kills both servers and deletes the cluster directory; logs are kept under
   * target/pg-cluster-logs.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    RuntimeException failure = null;
    for (PgNode n : nodes) {
      try {
        kill(n);
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    try {
      Files.createDirectories(logArchiveDir);
      for (PgNode n : nodes) {
        if (Files.exists(n.logFile())) {
          Files.copy(n.logFile(), logArchiveDir.resolve(n.name() + ".log"));
        }
      }
    } catch (IOException e) {
      log.warn("event=pg_logs_not_kept dir={} error={}", logArchiveDir, e.toString());
    }
    deleteRecursively(clusterDir);
    LIVE.remove(this);
    log.info("event=pg_pair_closed dir={} logs={}", clusterDir, logArchiveDir);
    if (failure != null) {
      throw failure;
    }
  }

  /** The harness's own child is reaped; a postmaster someone else started is watched in /proc. */
  private static void awaitExit(long pm, PgNode node) {
    Process own = node.postmaster();
    if (own == null || own.pid() != pm) {
      Waits.until(
          "postmaster " + pm + " of " + node + " to exit",
          STARTUP_TIMEOUT,
          () -> !Procs.isRunning(pm));
      return;
    }
    try {
      if (!own.waitFor(STARTUP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        throw new IllegalStateException("postmaster " + pm + " of " + node + " did not exit");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + node + " to exit", e);
    }
  }

  private static void requireAlive(PgNode node) {
    if (!node.isRunning()) {
      throw new Waits.GiveUp(
          "postgres for "
              + node
              + " exited; last log lines:\n"
              + ProcessLauncher.tail(node.logFile()));
    }
  }

  private static boolean accepts(PgNode node) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(node.host(), node.port()), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static int[] freePorts(int count) {
    // Hold all sockets open until every port is chosen so the same port is not handed out twice.
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket s = new ServerSocket();
        s.setReuseAddress(true);
        s.bind(new InetSocketAddress(PgNode.HOST, 0));
        sockets.add(s);
        ports[i] = s.getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot find free loopback ports", e);
    } finally {
      for (ServerSocket s : sockets) {
        try {
          s.close();
        } catch (IOException ignored) {
          // closing a listening socket we own; nothing to do
        }
      }
    }
  }

  static void deleteRecursively(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
