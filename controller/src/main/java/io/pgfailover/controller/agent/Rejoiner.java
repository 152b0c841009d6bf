package io.pgfailover.controller.agent;

import io.pgfailover.controller.config.AgentConfig;
import io.pgfailover.controller.events.Durable;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import io.pgfailover.controller.http.Json;
import io.pgfailover.controller.port.NodeAgents.Method;
import io.pgfailover.controller.port.NodeAgents.Rejoin;
import io.pgfailover.controller.port.NodeAgents.RejoinOutcome;
import io.pgfailover.controller.port.NodeAgents.RejoinRequest;
import io.pgfailover.controller.port.NodeAgents.Step;
import io.pgfailover.controller.port.RejoinPhase;
import io.pgfailover.controller.port.StepResult;
import io.pgfailover.probe.NodeEndpoint;
import io.pgfailover.probe.PasswordSource;
import io.pgfailover.probe.ProbeResult;
import io.pgfailover.probe.RejoinSource;
import io.pgfailover.probe.Role;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rejoins this node to a new primary as its streaming standby, on the agent's own worker thread:
 * {@link #request} checks and answers at once, the worker runs the phases of {@link RejoinPhase}
 * one at a time. One rejoin at a time; the same request again continues it. The state is kept in a
 * file beside the event history, so a restarted agent still says how the last one ended.
 *
 * <p>Nothing is deleted before its replacement is complete: a reclone copies into a new directory
 * beside the data directory and swaps only once the copy succeeded, keeping the old directory
 * renamed (one at most). A failure after PostgreSQL was stopped leaves it stopped.
 */
final class Rejoiner implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Rejoiner.class);

  /**
   * The look at the source before a request is accepted (it answers, as a primary, on that
   * timeline): the driver's whole-second connect and socket timeouts bound it.
   */
  static final java.time.Duration SOURCE_LOOK_BUDGET = java.time.Duration.ofSeconds(3);

  /** Reserve on top of the source's size when recloning: WAL streamed during the copy, growth. */
  static final double RECLONE_SPACE_FACTOR = 1.1;

  static final long RECLONE_SPACE_MIN_EXTRA = 256L * 1024 * 1024;

  private static final Pattern APPLICATION_NAME = Pattern.compile("[A-Za-z0-9_.-]{1,63}");
  private static final DateTimeFormatter OLD_SUFFIX =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final AgentConfig config;
  private final LocalPostgres pg;
  private final Tools tools;
  private final Path toolLog;
  private final EventLog events;
  private final Clock clock;
  private final Path stateFile;
  private final Consumer<RejoinPhase> beforePhase;
  private final ExecutorService worker;

  /**
   * Taken to accept a rejoin and around an API start or stop, so that neither slips in between the
   * other's check and its action (a start in the middle of a rewind). Taken before {@code this}.
   */
  private final Object admission = new Object();

  private Rejoin state;

  /** How a rejoin request was answered. */
  record Answer(RejoinOutcome outcome, String detail, Rejoin rejoin) {}

  /** One accepted request, with the defaults filled in. */
  private record Job(HostPort source, long expectTimeline, String slot, String applicationName) {}

  /**
   * @param beforePhase called on the worker as each phase begins (tests hold a phase with it)
   */
  Rejoiner(
      AgentConfig config,
      LocalPostgres pg,
      Tools tools,
      Path toolLog,
      EventLog events,
      Clock clock,
      Consumer<RejoinPhase> beforePhase) {
    this.config = config;
    this.pg = pg;
    this.tools = tools;
    this.toolLog = toolLog;
    this.events = events;
    this.clock = clock;
    this.stateFile = stateFile(config);
    this.beforePhase = beforePhase;
    this.worker =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "rejoin");
              t.setDaemon(true);
              return t;
            });
    this.state = load();
  }

  /** Where the last rejoin's state is kept: beside the event history. */
  static Path stateFile(AgentConfig config) {
    Path events = config.eventLog().path();
    return events.resolveSibling(events.getFileName() + ".rejoin");
  }

  synchronized Rejoin state() {
    return state;
  }

  synchronized boolean running() {
    return state.state().running();
  }

  /**
   * POST /rejoin: a running rejoin answers for itself (the same one continues, another is refused);
   * otherwise the guard decides now, with a live look at the source and this node, and an accepted
   * request goes to the worker. Throws {@link IllegalArgumentException} for a malformed request.
   */
  Answer request(RejoinRequest request) {
    synchronized (admission) {
      return admit(request);
    }
  }

  /**
   * Runs {@code action} (a start or stop asked through the API) unless a rejoin runs; no rejoin is
   * accepted meanwhile. Empty when a rejoin runs.
   */
  Optional<StepResult> unlessRejoining(java.util.function.Supplier<StepResult> action) {
    synchronized (admission) {
      return running() ? Optional.empty() : Optional.of(action.get());
    }
  }

  /**
   * Under {@link #admission}: no other request and no worker start meanwhile, so the checks run
   * without holding {@code this}, which state reads (facts, GET /rejoin) need.
   */
  private Answer admit(RejoinRequest request) {
    Job job = job(request);
    Rejoin state = state();
    if (state.state().running()) {
      boolean same =
          state.source().equals(Optional.of(job.source().toString()))
              && state.expectTimeline().equals(OptionalLong.of(job.expectTimeline()));
      return same
          ? new Answer(RejoinOutcome.CONTINUES, "the same rejoin runs: " + state.state(), state)
          : new Answer(
              RejoinOutcome.REFUSED,
              "another rejoin runs (to "
                  + state.source().orElse("?")
                  + " on timeline "
                  + state.expectTimeline().orElse(0)
                  + ", "
                  + state.state()
                  + "): wait for it to end",
              state);
    }
    RejoinGuard.Verdict verdict = check(job);
    if (verdict.refused()) {
      refused(job, verdict.reason());
      return new Answer(RejoinOutcome.REFUSED, verdict.reason(), state);
    }
    if (verdict.plan().get() == RejoinGuard.Plan.NOTHING_TO_DO) {
      log.info(
          "event=rejoin_not_needed node={} source={} timeline={} reason={}",
          config.node(),
          job.source(),
          job.expectTimeline(),
          LogText.quoted(verdict.reason()));
      return new Answer(RejoinOutcome.NOTHING_TO_DO, verdict.reason(), state);
    }
    Rejoin started;
    synchronized (this) {
      this.state =
          new Rejoin(
              this.state.state().to(RejoinPhase.CHECKING),
              Optional.of(job.source().toString()),
              OptionalLong.of(job.expectTimeline()),
              Optional.of(job.slot()),
              Optional.of(clock.instant()),
              Optional.empty(),
              Method.NONE,
              List.of(),
              Optional.empty());
      save();
      started = this.state;
    }
    log.info(
        "event=rejoin_started node={} source={} timeline={} slot={} plan={} reason={}",
        config.node(),
        job.source(),
        job.expectTimeline(),
        job.slot(),
        verdict.plan().get(),
        LogText.quoted(verdict.reason()));
    event(
        "rejoin_started",
        Map.of(
            "source", job.source().toString(),
            "expect_timeline", job.expectTimeline(),
            "slot", job.slot(),
            "plan", verdict.plan().get().name(),
            "reason", verdict.reason()));
    worker.submit(() -> run(job));
    return new Answer(RejoinOutcome.STARTED, verdict.reason(), started);
  }

  private Job job(RejoinRequest r) {
    HostPort source = HostPort.parse(r.source());
    if (r.expectTimeline() < 1) {
      throw new IllegalArgumentException("expectTimeline must be 1 or more");
    }
    String slot = r.slot().orElse("pgfailover_" + config.node().replaceAll("[^a-z0-9_]", "_"));
    if (!RejoinSource.SLOT_NAME.matcher(slot).matches()) {
      throw new IllegalArgumentException(
          "slot \"" + slot + "\" is not a slot name (lower-case letters, digits and _, up to 63)");
    }
    String app = r.applicationName().orElse(config.node());
    if (!APPLICATION_NAME.matcher(app).matches()) {
      throw new IllegalArgumentException(
          "applicationName \"" + app + "\" must be letters, digits, _ . - (up to 63)");
    }
    return new Job(source, r.expectTimeline(), slot, app);
  }

  /** The guard's verdict on a live look at the source and at this node. */
  private RejoinGuard.Verdict check(Job job) {
    RejoinSource.Look s = RejoinSource.look(sourceEndpoint(job.source()), SOURCE_LOOK_BUDGET);
    RejoinGuard.Source source =
        new RejoinGuard.Source(
            job.source().toString(),
            s.answered(),
            !s.answered() ? Role.UNKNOWN : s.primary() ? Role.PRIMARY : Role.STANDBY,
            s.timeline(),
            s.error().orElse(""));
    List<String> problems = new ArrayList<>();
    RejoinGuard.Self self = pg.self(pg.controlFile(problems), Optional.of(job.source()));
    return RejoinGuard.check(source, self, job.expectTimeline());
  }

  private void refused(Job job, String reason) {
    log.warn(
        "event=rejoin_refused node={} source={} timeline={} reason={}",
        config.node(),
        job.source(),
        job.expectTimeline(),
        LogText.quoted(reason));
    event(
        "rejoin_refused",
        Map.of(
            "source", job.source().toString(),
            "expect_timeline", job.expectTimeline(),
            "reason", reason));
  }

  // ---- the worker

  /** A phase failed, and why. */
  private static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message);
    }
  }

  private void run(Job job) {
    long started = System.nanoTime();
    RejoinPhase at = RejoinPhase.CHECKING;
    try {
      beforePhase.accept(RejoinPhase.CHECKING);
      long t = System.nanoTime();
      RejoinGuard.Verdict verdict = check(job);
      if (verdict.refused()) {
        throw new Failure(
            "re-checked before stopping: " + verdict.reason() + "; nothing was changed");
      }
      RejoinSource.Preparation prepared = prepareSource(job);
      finish(RejoinPhase.CHECKING, t, verdict.reason() + sourceDetail(prepared));

      at = enter(RejoinPhase.STOPPING);
      t = System.nanoTime();
      finish(RejoinPhase.STOPPING, t, must(pg.stop("rejoin to " + job.source())));

      at = enter(RejoinPhase.REWINDING);
      t = System.nanoTime();
      Method method;
      Optional<String> rewindFailure = Optional.empty();
      if (verdict.plan().get() == RejoinGuard.Plan.REWIND) {
        Tools.Run rewind = rewind(job);
        boolean noRewind = rewind.ok() && rewind.tail().contains("no rewind required");
        method = noRewind ? Method.NONE : Method.REWIND;
        if (rewind.ok()) {
          finish(RejoinPhase.REWINDING, t, noRewind ? "no rewind required" : "rewound");
          log.info(
              "event=rewound node={} ms={} no_rewind_required={}", config.node(), ms(t), noRewind);
          event("rewound", Map.of("ms", ms(t), "no_rewind_required", noRewind));
        } else {
          rewindFailure = Optional.of(rewind.describe());
        }
      } else {
        method = Method.NONE;
        finish(RejoinPhase.REWINDING, t, "not needed: a standby on the source's timeline");
      }

      if (rewindFailure.isPresent()) {
        if (!config.rejoin().reclone()) {
          throw new Failure(
              "pg_rewind failed and rejoin.reclone is false: "
                  + rewindFailure.get()
                  + " (fix: "
                  + rewindFix(rewindFailure.get())
                  + ", or set rejoin.reclone: true)");
        }
        finish(RejoinPhase.REWINDING, t, "failed, recloning: " + rewindFailure.get());
        at = enter(RejoinPhase.RECLONING);
        t = System.nanoTime();
        String kept = reclone(job, prepared);
        method = Method.RECLONE;
        finish(RejoinPhase.RECLONING, t, "recloned; the old data directory is kept as " + kept);
        log.info("event=recloned node={} ms={} kept={}", config.node(), ms(t), kept);
        event("recloned", Map.of("ms", ms(t), "kept", kept));
      }
      setMethod(method);

      at = enter(RejoinPhase.CONFIGURING);
      t = System.nanoTime();
      configure(job);
      finish(
          RejoinPhase.CONFIGURING,
          t,
          "standby.signal, primary_conninfo to " + job.source() + ", slot " + job.slot());

      at = enter(RejoinPhase.STARTING);
      t = System.nanoTime();
      finish(RejoinPhase.STARTING, t, must(pg.start("rejoin to " + job.source())));

      at = enter(RejoinPhase.AWAITING_STREAM);
      t = System.nanoTime();
      finish(RejoinPhase.AWAITING_STREAM, t, awaitStream(job));

      done(started);
    } catch (Failure e) {
      failed(at, e.getMessage(), started);
    } catch (RuntimeException e) {
      log.error(
          "event=rejoin_bug node={} phase={} error={}",
          config.node(),
          at,
          LogText.quoted(e.toString()),
          e);
      failed(at, "unexpected: " + e, started);
    }
  }

  /** The step's detail when it succeeded; its failure ends the rejoin. */
  private static String must(StepResult r) throws Failure {
    if (!r.ok()) {
      throw new Failure(r.detail());
    }
    return r.detail();
  }

  private RejoinPhase enter(RejoinPhase next) {
    synchronized (this) {
      state =
          with(
              state.state().to(next),
              state.method(),
              state.steps(),
              Optional.empty(),
              state.finishedAt());
      save();
    }
    log.info("event=rejoin_phase node={} phase={}", config.node(), next);
    // Outside the lock: a test holding a phase must not block requests meanwhile.
    beforePhase.accept(next);
    return next;
  }

  private synchronized void finish(RejoinPhase phase, long startedNanos, String detail) {
    List<Step> steps = new ArrayList<>(state.steps());
    steps.add(new Step(phase, ms(startedNanos), detail));
    state = with(state.state(), state.method(), steps, Optional.empty(), state.finishedAt());
    save();
  }

  private synchronized void setMethod(Method method) {
    state = with(state.state(), method, state.steps(), Optional.empty(), state.finishedAt());
    save();
  }

  private synchronized void done(long startedNanos) {
    state =
        with(
            state.state().to(RejoinPhase.DONE),
            state.method(),
            state.steps(),
            Optional.empty(),
            Optional.of(clock.instant()));
    save();
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("source", state.source().orElse(""));
    f.put("expect_timeline", state.expectTimeline().orElse(0));
    f.put("method", state.method().name());
    f.put("ms", ms(startedNanos));
    f.put("steps", state.steps());
    log.info(
        "event=rejoin_finished node={} source={} method={} ms={}",
        config.node(),
        state.source().orElse(""),
        state.method(),
        ms(startedNanos));
    event("rejoin_finished", f);
  }

  /**
   * The rejoin ends FAILED; once PostgreSQL was stopped it stays stopped (stopped again if it was
   * started), never half-configured and running.
   */
  private void failed(RejoinPhase at, String error, long startedNanos) {
    boolean changed = at != RejoinPhase.CHECKING;
    String leftAs = "left as it was (nothing changed)";
    if (changed) {
      StepResult stopped = pg.stop("rejoin failed in " + at);
      leftAs = stopped.ok() ? "left stopped" : "could not be stopped: " + stopped.detail();
    }
    synchronized (this) {
      state =
          with(
              state.state().to(RejoinPhase.FAILED),
              state.method(),
              state.steps(),
              Optional.of(at + ": " + error + "; the node was " + leftAs),
              Optional.of(clock.instant()));
      save();
    }
    log.warn(
        "event=rejoin_failed node={} phase={} error={} left={}",
        config.node(),
        at,
        LogText.quoted(error),
        LogText.quoted(leftAs));
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("phase", at.name());
    f.put("error", error);
    f.put("left", leftAs);
    f.put("ms", ms(startedNanos));
    event("rejoin_failed", f);
  }

  private Rejoin with(
      RejoinPhase phase,
      Method method,
      List<Step> steps,
      Optional<String> error,
      Optional<Instant> finishedAt) {
    return new Rejoin(
        phase,
        state.source(),
        state.expectTimeline(),
        state.slot(),
        state.startedAt(),
        finishedAt,
        method,
        steps,
        error);
  }

  // ---- the phases' work

  /** The source's checkpoint on its new timeline, the slot, its size: one bounded call. */
  private RejoinSource.Preparation prepareSource(Job job) throws Failure {
    pg.action("started", "prepare_source", "rejoin to " + job.source(), Map.of("slot", job.slot()));
    RejoinSource.Preparation p =
        RejoinSource.prepare(
            sourceEndpoint(job.source()),
            job.expectTimeline(),
            job.slot(),
            config.rejoin().sourceTimeout());
    StepResult r =
        p.ok()
            ? StepResult.done("source ready" + sourceDetail(p), Map.of())
            : StepResult.failed(p.error().orElse("source not ready"), Map.of());
    pg.action("finished", "prepare_source", "rejoin to " + job.source(), r);
    if (!p.ok()) {
      throw new Failure(p.error().orElse("the source is not ready") + "; nothing was changed");
    }
    return p;
  }

  /** What would have let pg_rewind work, from its message. */
  static String rewindFix(String failure) {
    if (failure.contains("wal_log_hints") || failure.contains("data checksums")) {
      return "set wal_log_hints = on (a restart) or use a cluster with data checksums";
    }
    if (failure.contains("full_page_writes must be enabled")) {
      return "set full_page_writes = on on the source (a reload)";
    }
    if (failure.contains("could not find previous WAL record")
        || failure.contains("could not open file") && failure.contains("pg_wal")) {
      return "this node no longer has its WAL back to its last checkpoint before the failover; keep"
          + " more with wal_keep_size (at least max_wal_size)";
    }
    return "see the agent's tools.log for pg_rewind's output";
  }

  private static String sourceDetail(RejoinSource.Preparation p) {
    return (p.checkpointed() ? "; checkpoint on the source" : "")
        + (p.slotCreated() ? "; slot created" : "");
  }

  private Tools.Run rewind(Job job) throws Failure {
    writePassfile();
    List<String> argv = new ArrayList<>();
    argv.add(pg.config().tool("pg_rewind").toString());
    argv.add("--target-pgdata=" + pg.dataDirectory());
    argv.add("--source-server=" + sourceConninfo(job, "pgfailover-rewind", true));
    pg.config().configFile().ifPresent(f -> argv.add("--config-file=" + f));
    pg.action("started", "pg_rewind", "rejoin to " + job.source(), Map.of());
    Tools.Run r = tools.asOsUser(argv, passfileEnv(), config.rejoin().rewindTimeout(), toolLog);
    pg.action(
        "finished",
        "pg_rewind",
        "rejoin to " + job.source(),
        r.ok()
            ? StepResult.done("pg_rewind done", Map.of("ms", r.ms()))
            : StepResult.failed(r.describe(), Map.of("ms", r.ms())));
    return r;
  }

  /**
   * pg_basebackup into {@code DATA.new}, then the swap: the oldest kept copy goes, DATA becomes
   * {@code DATA.old-<UTC time>}, DATA.new becomes DATA. Returns where the old data is kept.
   */
  private String reclone(Job job, RejoinSource.Preparation source) throws Failure {
    Path data = pg.dataDirectory();
    Path parent = data.getParent();
    Path fresh = parent.resolve(data.getFileName() + ".new");
    try (Stream<Path> tablespaces = Files.list(data.resolve("pg_tblspc"))) {
      if (tablespaces.findAny().isPresent()) {
        throw new Failure(
            "the data directory has tablespaces (pg_tblspc/ is not empty): a reclone would write"
                + " them over their current places; rebuild this node by hand");
      }
    } catch (IOException e) {
      // no pg_tblspc/ (a damaged directory): nothing to collide with
    }
    long needed =
        Math.max(
            (long)
                (Math.max(source.clusterBytes().orElse(0), pg.dataBytes()) * RECLONE_SPACE_FACTOR),
            Math.max(source.clusterBytes().orElse(0), pg.dataBytes()) + RECLONE_SPACE_MIN_EXTRA);
    long free;
    try {
      free = Files.getFileStore(parent).getUsableSpace();
    } catch (IOException e) {
      throw new Failure("cannot read the free space in " + parent + ": " + e.getMessage());
    }
    if (free < needed) {
      throw new Failure(
          "not enough free space for a new copy beside "
              + data
              + ": "
              + free
              + " bytes free, "
              + needed
              + " needed (the source's size, and a reserve); free space or grow the volume");
    }
    pg.action(
        "started",
        "pg_basebackup",
        "rejoin to " + job.source(),
        Map.of("target", fresh.toString(), "free_bytes", free, "needed_bytes", needed));
    Tools.Run r;
    try {
      // An earlier attempt's copy never replaced anything: it is incomplete by definition.
      deleteTree(fresh);
      Files.createDirectory(
          fresh,
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      tools.chownToOsUser(fresh);
      writePassfile();
      List<String> argv =
          List.of(
              pg.config().tool("pg_basebackup").toString(),
              "-D",
              fresh.toString(),
              "-X",
              "stream",
              "-S",
              job.slot(),
              "--checkpoint=fast",
              "--no-password",
              "-d",
              sourceConninfo(job, "pgfailover-reclone", false));
      r = tools.asOsUser(argv, passfileEnv(), config.rejoin().recloneTimeout(), toolLog);
    } catch (IOException e) {
      throw new Failure("cannot prepare " + fresh + ": " + e.getMessage());
    }
    if (!r.ok()) {
      pg.action("finished", "pg_basebackup", "rejoin", StepResult.failed(r.describe(), Map.of()));
      try {
        deleteTree(fresh);
      } catch (IOException e) {
        log.warn("event=reclone_copy_not_removed dir={} error=\"{}\"", fresh, e.getMessage());
      }
      throw new Failure(
          "pg_basebackup failed: " + r.describe() + "; the data directory is unchanged");
    }
    Path kept = parent.resolve(data.getFileName() + ".old-" + OLD_SUFFIX.format(clock.instant()));
    try {
      // At most one old copy: the one before this swap goes now that its successor is complete.
      try (Stream<Path> old = Files.list(parent)) {
        for (Path p :
            old.filter(p -> p.getFileName().toString().startsWith(data.getFileName() + ".old-"))
                .toList()) {
          deleteTree(p);
          log.info("event=old_data_directory_removed node={} dir={}", config.node(), p);
        }
      }
      Files.move(data, kept, StandardCopyOption.ATOMIC_MOVE);
      try {
        Files.move(fresh, data, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException e) {
        Files.move(kept, data, StandardCopyOption.ATOMIC_MOVE);
        throw e;
      }
      Durable.syncDirectory(data);
    } catch (IOException e) {
      throw new Failure(
          "swapping in the new copy failed ("
              + e
              + "); the data directory must be on the same file system as its parent directory");
    }
    pg.action(
        "finished",
        "pg_basebackup",
        "rejoin to " + job.source(),
        StepResult.done("new copy in place", Map.of("kept", kept.toString(), "ms", r.ms())));
    return kept.toString();
  }

  /**
   * standby.signal; the managed settings of postgresql.auto.conf replaced by this standby's own;
   * pg_replslot/ emptied (slots this node held as a primary would keep WAL on a standby for ever).
   */
  private void configure(Job job) throws Failure {
    Path data = pg.dataDirectory();
    pg.action("started", "configure_standby", "rejoin to " + job.source(), Map.of());
    try {
      Path signal = data.resolve("standby.signal");
      Durable.replace(signal, new byte[0], tools::chownToOsUser);
      Path auto = data.resolve("postgresql.auto.conf");
      String text = Files.exists(auto) ? Files.readString(auto) : "";
      Map<String, String> settings = new LinkedHashMap<>();
      settings.put("primary_conninfo", standbyConninfo(job));
      settings.put("primary_slot_name", job.slot());
      Durable.replace(
          auto,
          AutoConf.rewrite(text, settings).getBytes(StandardCharsets.UTF_8),
          tools::chownToOsUser);
      Path slots = data.resolve("pg_replslot");
      if (Files.isDirectory(slots)) {
        try (Stream<Path> held = Files.list(slots)) {
          for (Path slot : held.toList()) {
            deleteTree(slot);
          }
        }
      }
    } catch (IOException e) {
      pg.action(
          "finished", "configure_standby", "rejoin", StepResult.failed(e.toString(), Map.of()));
      throw new Failure("configuring the standby failed: " + e);
    }
    pg.action(
        "finished",
        "configure_standby",
        "rejoin to " + job.source(),
        StepResult.done("standby of " + job.source(), Map.of("slot", job.slot())));
  }

  /** Until the WAL receiver streams from the source, within rejoin.streamTimeout. */
  private String awaitStream(Job job) throws Failure {
    long end = System.nanoTime() + config.rejoin().streamTimeout().toNanos();
    String last = "not asked yet";
    while (true) {
      ProbeResult r = pg.probe();
      if (LocalPostgres.streamsFrom(r, job.source())) {
        return "streaming from " + job.source() + " on timeline " + r.timeline().orElse(0);
      }
      last =
          r.reachable()
              ? r.walReceiver()
                  .map(
                      w ->
                          "WAL receiver "
                              + w.status()
                              + " from "
                              + w.senderHost()
                              + ":"
                              + w.senderPort())
                  .orElse("no WAL receiver")
              : r.reachability() + ": " + r.error().orElse("");
      if (System.nanoTime() > end) {
        throw new Failure(
            "not streaming from "
                + job.source()
                + " within "
                + config.rejoin().streamTimeout().toSeconds()
                + " s (last seen: "
                + last
                + "); see the server's log");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(200));
    }
  }

  // ---- connections to the source

  private NodeEndpoint sourceEndpoint(HostPort source) {
    return NodeEndpoint.of(
        "source " + source,
        source.host(),
        source.port(),
        "postgres",
        config.replication().user(),
        PasswordSource.fromFile(config.replication().passwordFile()));
  }

  /** pg_rewind's (a normal connection to the postgres database) or pg_basebackup's. */
  private String sourceConninfo(Job job, String applicationName, boolean database) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("host", job.source().host());
    c.put("port", Integer.toString(job.source().port()));
    c.put("user", config.replication().user());
    if (database) {
      c.put("dbname", "postgres");
    }
    c.put("application_name", applicationName);
    c.put("connect_timeout", "10");
    return Conninfo.format(c);
  }

  /** The standby's primary_conninfo: the password stays in the passfile. */
  private String standbyConninfo(Job job) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("host", job.source().host());
    c.put("port", Integer.toString(job.source().port()));
    c.put("user", config.replication().user());
    c.put("application_name", job.applicationName());
    c.put("passfile", config.replication().passfile().toString());
    c.put("connect_timeout", "10");
    return Conninfo.format(c);
  }

  private Map<String, String> passfileEnv() {
    return Map.of("PGPASSFILE", config.replication().passfile().toString());
  }

  /**
   * Writes the replication password into the passfile the tools and the standby read (mode 0600,
   * owned by the OS user), from the owner-only password file: never onto a command line.
   */
  private void writePassfile() throws Failure {
    Path passfile = config.replication().passfile();
    try {
      String password =
          PasswordSource.fromFile(config.replication().passwordFile())
              .password("*", 0, "*", config.replication().user());
      String line = "*:*:*:" + escape(config.replication().user()) + ":" + escape(password) + "\n";
      Durable.replace(passfile, line.getBytes(StandardCharsets.UTF_8), tools::chownToOsUser);
    } catch (IOException | RuntimeException e) {
      throw new Failure("cannot write the passfile " + passfile + ": " + e.getMessage());
    }
  }

  /** .pgpass escapes a colon and a backslash with a backslash. */
  private static String escape(String field) {
    return field.replace("\\", "\\\\").replace(":", "\\:");
  }

  // ---- state file and events

  private void save() {
    try {
      Durable.replace(stateFile, Json.MAPPER.writeValueAsBytes(state));
    } catch (IOException e) {
      log.error(
          "event=rejoin_state_not_saved file={} error={}", stateFile, LogText.quoted(e.toString()));
    }
  }

  /**
   * The last rejoin from the state file. One that was running when the agent stopped is FAILED now:
   * the worker that ran it is gone.
   */
  private Rejoin load() {
    if (!Files.exists(stateFile)) {
      return Rejoin.idle();
    }
    try {
      Rejoin r = Json.MAPPER.readValue(Files.readAllBytes(stateFile), Rejoin.class);
      if (!r.state().running()) {
        return r;
      }
      Rejoin interrupted =
          new Rejoin(
              r.state().to(RejoinPhase.FAILED),
              r.source(),
              r.expectTimeline(),
              r.slot(),
              r.startedAt(),
              Optional.of(clock.instant()),
              r.method(),
              r.steps(),
              Optional.of(
                  r.state()
                      + ": the agent stopped during this phase; PostgreSQL was left as the agent"
                      + " found it at its start; ask again to rejoin"));
      state = interrupted;
      save();
      event(
          "rejoin_failed",
          Map.of("phase", r.state().name(), "error", "the agent stopped during this phase"));
      return interrupted;
    } catch (IOException | RuntimeException e) {
      log.warn(
          "event=rejoin_state_unreadable file={} error={}",
          stateFile,
          LogText.quoted(e.toString()));
      return Rejoin.idle();
    }
  }

  private void event(String name, Map<String, ?> fields) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("node", config.node());
    f.putAll(fields);
    events.append(name, f);
  }

  private static long ms(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  @Override
  public void close() {
    worker.shutdownNow();
    try {
      worker.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
