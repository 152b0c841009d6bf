package io.pgfailover.controller.agent;

import io.pgfailover.controller.config.AgentConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.controller.port.NodeAgents.Facts;
import io.pgfailover.controller.port.NodeAgents.Rejoin;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.probe.NodeEndpoint;
import io.pgfailover.probe.PgProbe;
import io.pgfailover.probe.ProbeResult;
import io.pgfailover.probe.ProbeSettings;
import io.pgfailover.probe.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This host's PostgreSQL as the agent sees it from the outside: the postmaster's process, the data
 * directory's files and {@code pg_controldata}, so that every fact answers while the server is
 * down; and starting and stopping it through the configured commands, bounded and idempotent.
 */
final class LocalPostgres implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalPostgres.class);

  /** The agent's own queries (role, timeline, WAL receiver) on this host. */
  static final Duration PROBE_DEADLINE = Duration.ofSeconds(3);

  /** Walking a large data directory costs; its size is read again at most this often. */
  static final Duration SIZE_REFRESH = Duration.ofMinutes(1);

  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+(?:\\.\\d+)?)");
  private static final Pattern HISTORY = Pattern.compile("([0-9A-F]{8})\\.history");

  private final AgentConfig.Postgres pg;
  private final String node;
  private final Tools tools;
  private final Path toolLog;
  private final EventLog events;
  private final PgProbe probe;
  private final NodeEndpoint local;
  private volatile String version;
  private long sizeReadNanos;
  private long size = -1;

  LocalPostgres(AgentConfig config, Tools tools, Path toolLog, EventLog events) {
    this.pg = config.postgres();
    this.node = config.node();
    this.tools = tools;
    this.toolLog = toolLog;
    this.events = events;
    this.probe =
        new PgProbe(ProbeSettings.defaults().withDeadline(PROBE_DEADLINE).withWriteCheck(false));
    this.local =
        NodeEndpoint.of(
            node,
            pg.host(),
            pg.port(),
            "postgres",
            pg.local().user(),
            pg.local().password().source());
  }

  AgentConfig.Postgres config() {
    return pg;
  }

  Path dataDirectory() {
    return pg.dataDirectory();
  }

  // ---- the postmaster

  /**
   * The running postmaster's pid: postmaster.pid's first line, and that process alive (not a
   * zombie) and a PostgreSQL server. A file alone proves nothing: a killed server leaves it behind,
   * and its pid may since belong to another process.
   */
  OptionalLong postmasterPid() {
    return pidFileLine(0)
        .flatMap(LocalPostgres::parsePid)
        .filter(LocalPostgres::isPostgres)
        .map(OptionalLong::of)
        .orElse(OptionalLong.empty());
  }

  /**
   * postmaster.pid's status line: "starting", "stopping", "ready" or "standby" (PostgreSQL 10+).
   */
  Optional<String> postmasterStatus() {
    return pidFileLine(7).map(String::strip);
  }

  private Optional<String> pidFileLine(int index) {
    try {
      List<String> lines = Files.readAllLines(pg.dataDirectory().resolve("postmaster.pid"));
      return index < lines.size() ? Optional.of(lines.get(index)) : Optional.empty();
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  private static Optional<Long> parsePid(String line) {
    try {
      return Optional.of(Long.parseLong(line.strip()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Alive (any state but zombie or dead) and named postgres (or postmaster, an old alias). */
  static boolean isPostgres(long pid) {
    try {
      String stat =
          Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
      // "pid (comm) S ...": comm may hold spaces and parentheses, so read after the last ')'.
      int close = stat.lastIndexOf(')');
      char state = stat.charAt(close + 2);
      String comm = stat.substring(stat.indexOf('(') + 1, close);
      return state != 'Z' && state != 'X' && (comm.equals("postgres") || comm.equals("postmaster"));
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** A live probe of the local server (never throws; bounded by {@link #PROBE_DEADLINE}). */
  ProbeResult probe() {
    return probe.probe(local);
  }

  // ---- the data directory

  /** pg_controldata's view, or empty with the reason added to {@code problems}. */
  Optional<ControlFile> controlFile(List<String> problems) {
    if (!Files.isDirectory(pg.dataDirectory())) {
      problems.add("the data directory " + pg.dataDirectory() + " does not exist");
      return Optional.empty();
    }
    Tools.Captured c =
        tools.capture(
            List.of(pg.tool("pg_controldata").toString(), "-D", pg.dataDirectory().toString()));
    Optional<ControlFile> parsed = c.run().ok() ? ControlFile.parse(c.output()) : Optional.empty();
    if (parsed.isEmpty()) {
      problems.add("pg_controldata: " + (c.run().ok() ? "unexpected output" : c.run().describe()));
    }
    return parsed;
  }

  /**
   * The newest timeline with a history file in pg_wal (a promotion writes one before its first
   * write).
   */
  OptionalLong newestHistoryTimeline() {
    try (Stream<Path> files = Files.list(pg.dataDirectory().resolve("pg_wal"))) {
      return files
          .map(p -> HISTORY.matcher(p.getFileName().toString()))
          .filter(Matcher::matches)
          .mapToLong(m -> Long.parseLong(m.group(1), 16))
          .max();
    } catch (IOException e) {
      return OptionalLong.empty();
    }
  }

  /**
   * What this node is, for {@link RejoinGuard}: live while it runs and answers, else from its files
   * (point 2 of the guard's argument). {@code source} is host:port of a rejoin's source, to tell
   * whether the WAL receiver streams from it.
   */
  RejoinGuard.Self self(Optional<ControlFile> cf, Optional<HostPort> source) {
    OptionalLong history = newestHistoryTimeline();
    if (postmasterPid().isPresent()) {
      ProbeResult r = probe();
      if (r.reachable()) {
        boolean streaming = source.isPresent() && streamsFrom(r, source.get());
        return new RejoinGuard.Self(r.role(), max(r.timeline(), history), streaming, "live");
      }
    }
    if (cf.isEmpty()) {
      return new RejoinGuard.Self(Role.UNKNOWN, OptionalLong.empty(), false, "no control file");
    }
    ControlFile c = cf.get();
    boolean restored = Files.exists(pg.dataDirectory().resolve("backup_label"));
    Role role = restored ? Role.STANDBY : c.lastRole();
    OptionalLong timeline =
        max(
            max(OptionalLong.of(c.checkpointTimeline()), OptionalLong.of(c.minRecoveryTimeline())),
            history);
    String basis =
        "control file \""
            + c.state()
            + "\""
            + (restored ? " with backup_label" : "")
            + (history.isPresent() ? ", history files up to timeline " + history.getAsLong() : "");
    return new RejoinGuard.Self(role, timeline, false, basis);
  }

  /** A standby whose WAL receiver streams from {@code source} (as primary_conninfo names it). */
  static boolean streamsFrom(ProbeResult r, HostPort source) {
    return r.reachable()
        && r.walReceiver()
            .filter(
                w ->
                    w.streaming()
                        && w.senderHost().equals(source.host())
                        && w.senderPort() == source.port())
            .isPresent();
  }

  private static OptionalLong max(OptionalLong a, OptionalLong b) {
    if (a.isEmpty()) {
      return b;
    }
    return b.isEmpty() ? a : OptionalLong.of(Math.max(a.getAsLong(), b.getAsLong()));
  }

  /** Every fact, each found out on its own so that one failure does not hide the others. */
  Facts facts(Rejoin rejoin, Optional<NodeAgents.Upstream> upstream) {
    List<String> problems = new ArrayList<>();
    OptionalLong pid = postmasterPid();
    Optional<ControlFile> cf = controlFile(problems);
    RejoinGuard.Self self = self(cf, Optional.empty());
    return new Facts(
        node,
        pid.isPresent(),
        pid,
        version(problems),
        pg.dataDirectory().toString(),
        dataBytes(),
        freeBytes(problems),
        Files.exists(pg.dataDirectory().resolve("standby.signal")),
        primaryConninfo().map(Conninfo::withoutPassword),
        cf.map(ControlFile::facts),
        self.role(),
        self.timeline(),
        problems,
        rejoin,
        upstream);
  }

  /** Where primary_conninfo points (its first host and its port, 5432 by default), if set. */
  Optional<HostPort> upstream() {
    return primaryConninfo()
        .map(Conninfo::parse)
        .filter(c -> c.containsKey("host"))
        .map(
            c ->
                new HostPort(
                    c.get("host").split(",")[0].strip(),
                    Integer.parseInt(c.getOrDefault("port", "5432").split(",")[0].strip())));
  }

  /** postgresql.auto.conf's primary_conninfo, else the main configuration file's. */
  Optional<String> primaryConninfo() {
    Path main = pg.configFile().orElse(pg.dataDirectory().resolve("postgresql.conf"));
    for (Path f : List.of(pg.dataDirectory().resolve("postgresql.auto.conf"), main)) {
      try {
        Optional<String> v = AutoConf.value(Files.readString(f), "primary_conninfo");
        if (v.isPresent()) {
          return v;
        }
      } catch (IOException e) {
        // not there (a Debian data directory has no postgresql.conf): try the next
      }
    }
    return Optional.empty();
  }

  /** The version of the agent's PostgreSQL binaries, read once. */
  private String version(List<String> problems) {
    if (version == null) {
      Tools.Captured c = tools.capture(List.of(pg.tool("postgres").toString(), "-V"));
      Matcher m = VERSION.matcher(c.output());
      if (!c.run().ok() || !m.find()) {
        problems.add("postgres -V: " + c.run().describe());
        return "unknown";
      }
      version = m.group(1);
    }
    return version;
  }

  synchronized long dataBytes() {
    long now = System.nanoTime();
    if (size < 0 || now - sizeReadNanos > SIZE_REFRESH.toNanos()) {
      size = sizeOf(pg.dataDirectory());
      sizeReadNanos = now;
    }
    return size;
  }

  /** Bytes under {@code dir}; files that vanish meanwhile (WAL recycled) are skipped. */
  static long sizeOf(Path dir) {
    long[] total = {0};
    try {
      Files.walkFileTree(
          dir,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
              total[0] += attrs.size();
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      return total[0];
    }
    return total[0];
  }

  /** Free bytes on the file system of the data directory (of its parent while it is missing). */
  long freeBytes(List<String> problems) {
    Path at =
        Files.exists(pg.dataDirectory()) ? pg.dataDirectory() : pg.dataDirectory().getParent();
    try {
      return Files.getFileStore(at).getUsableSpace();
    } catch (IOException e) {
      problems.add("free space of " + at + ": " + e.getMessage());
      return -1;
    }
  }

  // ---- start and stop

  /**
   * Starts PostgreSQL unless it runs, then waits until it accepts connections (postmaster.pid says
   * "ready" or "standby"), all within {@code startTimeout}. Idempotent.
   */
  synchronized StepResult start(String why) {
    OptionalLong running = postmasterPid();
    if (running.isPresent()) {
      return StepResult.alreadyDone(
          "PostgreSQL already runs (postmaster " + running.getAsLong() + ")",
          Map.of("pid", running.getAsLong()));
    }
    long deadline = System.nanoTime() + pg.startTimeout().toNanos();
    action("started", "start_postgres", why, Map.of());
    removeStalePidFile();
    Tools.Run run = service(true);
    StepResult result;
    if (!run.ok()) {
      result =
          StepResult.failed(
              "starting PostgreSQL failed: " + run.describe(), Map.of("ms", run.ms()));
    } else {
      Optional<String> status = Optional.empty();
      while (System.nanoTime() < deadline) {
        status = postmasterStatus();
        if (postmasterPid().isPresent()
            && status.filter(s -> s.equals("ready") || s.equals("standby")).isPresent()) {
          break;
        }
        LockSupport.parkNanos(POLL_NANOS);
      }
      OptionalLong pid = postmasterPid();
      boolean ready =
          pid.isPresent()
              && status.filter(s -> s.equals("ready") || s.equals("standby")).isPresent();
      result =
          ready
              ? StepResult.done(
                  "PostgreSQL started (postmaster " + pid.getAsLong() + ", " + status.get() + ")",
                  Map.of("pid", pid.getAsLong()))
              : StepResult.failed(
                  "PostgreSQL does not accept connections "
                      + pg.startTimeout().toSeconds()
                      + " s after its start command (postmaster "
                      + (pid.isPresent()
                          ? pid.getAsLong() + ", status " + status.orElse("unknown")
                          : "not running")
                      + "); a standby needs hot_standby = on; see the server's log",
                  Map.of());
    }
    action("finished", "start_postgres", why, result);
    return result;
  }

  /**
   * Stops PostgreSQL (fast shutdown) unless it is stopped, within {@code stopTimeout}. Idempotent.
   */
  synchronized StepResult stop(String why) {
    OptionalLong running = postmasterPid();
    if (running.isEmpty()) {
      return StepResult.alreadyDone("PostgreSQL is not running", Map.of());
    }
    long deadline = System.nanoTime() + pg.stopTimeout().toNanos();
    action("started", "stop_postgres", why, Map.of("pid", running.getAsLong()));
    Tools.Run run = service(false);
    while (postmasterPid().isPresent() && System.nanoTime() < deadline) {
      LockSupport.parkNanos(POLL_NANOS);
    }
    StepResult result;
    if (postmasterPid().isEmpty()) {
      result =
          StepResult.done("PostgreSQL stopped (postmaster " + running.getAsLong() + ")", Map.of());
    } else {
      result =
          StepResult.failed(
              "PostgreSQL still runs "
                  + pg.stopTimeout().toSeconds()
                  + " s after its stop command ("
                  + run.describe()
                  + ")",
              Map.of());
    }
    action("finished", "stop_postgres", why, result);
    return result;
  }

  /**
   * A postmaster.pid naming a process that has ended (or a zombie no one reaps: a container's PID 1
   * may never reap an orphaned postmaster, and a zombie still passes PostgreSQL's own {@code
   * kill(pid, 0)} check) would keep the server from starting.
   */
  private void removeStalePidFile() {
    Path file = pg.dataDirectory().resolve("postmaster.pid");
    Optional<Long> pid = pidFileLine(0).flatMap(LocalPostgres::parsePid);
    if (pid.isPresent() && !isPostgres(pid.get())) {
      try {
        Files.deleteIfExists(file);
        log.info("event=stale_pid_file_removed node={} file={} pid={}", node, file, pid.get());
      } catch (IOException e) {
        log.warn(
            "event=stale_pid_file_not_removed node={} file={} error=\"{}\"",
            node,
            file,
            e.getMessage());
      }
    }
  }

  /** The start or stop command: explicit, else the preset's. */
  private Tools.Run service(boolean start) {
    Duration timeout = start ? pg.startTimeout() : pg.stopTimeout();
    Optional<List<String>> explicit = start ? pg.start() : pg.stop();
    if (explicit.isPresent()) {
      return tools.asAgent(explicit.get(), timeout, toolLog);
    }
    return switch (pg.service()) {
      case SYSTEMD ->
          tools.asAgent(
              List.of("/usr/bin/systemctl", start ? "start" : "stop", pg.unit()), timeout, toolLog);
      case PG_CTL -> {
        // pg_ctl's own -t bounds its wait; the outer bound only catches a hung pg_ctl.
        String seconds = Long.toString(timeout.toSeconds());
        List<String> argv =
            start
                ? List.of(
                    pg.tool("pg_ctl").toString(),
                    "start",
                    "-D",
                    pg.dataDirectory().toString(),
                    "-w",
                    "-t",
                    seconds,
                    "-o",
                    "-p " + pg.port())
                : List.of(
                    pg.tool("pg_ctl").toString(),
                    "stop",
                    "-D",
                    pg.dataDirectory().toString(),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    seconds);
        // The server inherits pg_ctl's output: its log goes to serverLog.
        yield tools.asOsUser(
            argv, Map.of(), timeout.plusSeconds(10), start ? pg.serverLog() : toolLog);
      }
    };
  }

  /** Before and after every action on PostgreSQL: a log line and an event. */
  void action(String when, String action, String why, Object outcome) {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("action", action);
    fields.put("node", node);
    fields.put("why", why);
    if (outcome instanceof StepResult r) {
      fields.put("ok", r.ok());
      fields.put("changed", r.changed());
      fields.put("detail", r.detail());
      fields.putAll(r.fields());
    } else if (outcome instanceof Map<?, ?> m) {
      m.forEach((k, v) -> fields.put(String.valueOf(k), v));
    }
    events.append("action_" + when, fields);
    log.info(
        "event=action_{} action={} node={} why={}{}",
        when,
        action,
        node,
        LogText.quoted(why),
        outcome instanceof StepResult r
            ? " ok=" + r.ok() + " changed=" + r.changed() + " detail=" + LogText.quoted(r.detail())
            : "");
  }

  @Override
  public void close() {
    probe.close();
  }
}
