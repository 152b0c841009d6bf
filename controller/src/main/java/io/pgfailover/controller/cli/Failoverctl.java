package io.pgfailover.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.controller.admin.AdminServer;
import io.pgfailover.controller.admin.StatusView;
import io.pgfailover.controller.agent.AgentCommand;
import io.pgfailover.controller.config.ConfigException;
import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.config.Detection;
import io.pgfailover.controller.decide.Reason;
import io.pgfailover.controller.decide.Request;
import io.pgfailover.controller.events.ActorLock;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.loop.ControlLoop;
import io.pgfailover.controller.loop.LoopReport;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.notify.Notifications;
import io.pgfailover.controller.port.Backends;
import io.pgfailover.controller.wiring.Wiring;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code failoverctl}: the daemon and the operator's commands. Exit codes: {@link ExitCodes}. */
@Command(
    name = "failoverctl",
    mixinStandardHelpOptions = true,
    versionProvider = Failoverctl.Version.class,
    description =
        "PostgreSQL failover controller for AWS: moves the virtual IP's routes to the primary.",
    subcommands = {
      Failoverctl.Run.class,
      Failoverctl.Status.class,
      Failoverctl.FailoverCmd.class,
      Failoverctl.SwitchoverCmd.class,
      Failoverctl.RejoinCmd.class,
      Failoverctl.Preflight.class,
      Failoverctl.ConfigCmd.class,
      AgentCommand.class,
      Failoverctl.VersionCmd.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:done; status: healthy",
      "1:an action failed, or a runtime error",
      "2:bad usage",
      "3:invalid configuration",
      "4:permission denied (admin token, AWS authorization)",
      "5:refused by a safety guard; nothing changed",
      "6:status/preflight: unhealthy, or a check failed"
    })
public final class Failoverctl {
  static final String DEFAULT_CONFIG = "/etc/pgfailover/controller.yaml";

  public static void main(String[] args) {
    // The daemons (the controller, the node agent) log every event; a one-shot command prints its
    // own result, so only warnings are logged.
    if (args.length == 0 || !(args[0].equals("run") || args[0].equals("agent"))) {
      System.setProperty(
          "org.slf4j.simpleLogger.defaultLogLevel",
          System.getProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn"));
    }
    System.exit(execute(args));
  }

  /** Runs a command and returns its exit code (tests call this instead of main). */
  public static int execute(String... args) {
    return execute(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args);
  }

  /** As {@link #execute(String...)}, writing to the given streams. */
  public static int execute(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = new CommandLine(new Failoverctl());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExecutionExceptionHandler(
        (e, cmd, parsed) -> {
          if (e instanceof ConfigException ce) {
            cmd.getErr().println(ce.getMessage());
            return ExitCodes.CONFIG;
          }
          cmd.getErr().println("failoverctl: " + e.getMessage());
          return ExitCodes.FAILED;
        });
    return cl.execute(args);
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v =
          Optional.ofNullable(Failoverctl.class.getPackage().getImplementationVersion())
              .orElse("dev");
      return new String[] {
        "failoverctl " + v + " (java " + System.getProperty("java.version") + ")"
      };
    }
  }

  /** Options every command that needs the configuration shares. */
  static class ConfigOption {
    @Option(
        names = {"-c", "--config"},
        description = "controller YAML (default: $PGFAILOVER_CONFIG or " + DEFAULT_CONFIG + ")")
    Path config;

    ControllerConfig load() throws ConfigException {
      Path p =
          config != null
              ? config
              : Path.of(
                  Optional.ofNullable(System.getenv("PGFAILOVER_CONFIG")).orElse(DEFAULT_CONFIG));
      return ConfigLoader.load(p);
    }
  }

  /**
   * Takes the host's actor lock for a command that acts, or prints who holds it: the daemon and a
   * direct command never act at the same time.
   */
  static Optional<ActorLock> actorLock(
      ControllerConfig config, String command, CommandLine.Model.CommandSpec spec)
      throws java.io.IOException {
    try {
      return Optional.of(ActorLock.acquire(config.eventLog().lockFile(), command));
    } catch (ActorLock.HeldException e) {
      spec.commandLine().getErr().println("failoverctl " + command + ": " + e.getMessage());
      return Optional.empty();
    }
  }

  @Command(name = "run", description = "Run the daemon: the control loop and the admin API.")
  static final class Run implements Callable<Integer> {
    @CommandLine.Mixin ConfigOption opts = new ConfigOption();

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      ControllerConfig config = opts.load();
      // Held for the daemon's lifetime; the operating system drops it when the process ends.
      Optional<ActorLock> lock = actorLock(config, "run", spec);
      if (lock.isEmpty()) {
        return ExitCodes.FAILED;
      }
      Clock clock = Clock.systemUTC();
      AtomicBoolean running = new AtomicBoolean(true);
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    running.set(false);
                    try {
                      stopped.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
      Metrics metrics = new Metrics();
      EventLog events = new EventLog(config.eventLog(), clock, config.cluster());
      try (ActorLock held = lock.get();
          Backends backends = Wiring.connect(config, Wiring.AwsAccess.DEFAULT_CHAIN);
          ControlLoop loop =
              Wiring.loop(config, backends, events, metrics, clock, Wiring.Purpose.DAEMON);
          AdminServer admin = new AdminServer(config, loop, events, metrics, clock);
          Notifications told = Notifications.start(config, backends, events, metrics)) {
        admin.start();
        Detection.caution(config)
            .ifPresent(
                caution ->
                    LoggerFactory.getLogger(Failoverctl.class)
                        .warn("event=config_caution detail=\"{}\"", caution));
        loop.run(running::get);
        events.append("controller_stopping", Map.of("controller", config.controllerName()));
        // A clean stop hands the lease back, so the peer takes over without waiting out the
        // duration.
        loop.leadership().release();
      } finally {
        stopped.countDown();
      }
      return ExitCodes.OK;
    }
  }

  @Command(
      name = "status",
      description =
          "Show the nodes, the route tables and recent events (from the daemon if one runs).")
  static final class Status implements Callable<Integer> {
    @CommandLine.Mixin ConfigOption opts = new ConfigOption();

    @Option(names = "--json", description = "print the status document as JSON")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      ControllerConfig config = opts.load();
      AdminClient client = new AdminClient(config);
      JsonNode status;
      Optional<JsonNode> fromDaemon;
      try {
        fromDaemon = client.status();
      } catch (AdminClient.Unreachable e) {
        spec.commandLine().getErr().println("failoverctl status: " + e.getMessage());
        return ExitCodes.FAILED;
      }
      if (fromDaemon.isPresent()) {
        status = fromDaemon.get();
      } else {
        try (Backends backends = Wiring.connect(config, Wiring.AwsAccess.DEFAULT_CHAIN);
            ControlLoop loop =
                Wiring.loop(
                    config,
                    backends,
                    new EventLog(config.eventLog(), Clock.systemUTC(), config.cluster()),
                    new Metrics(),
                    Clock.systemUTC(),
                    Wiring.Purpose.STATUS)) {
          LoopReport r = loop.peek();
          ObjectNode s = StatusView.toJson(config, r, EventLog.tail(config.eventLog().path(), 20));
          s.put("source", "direct (nothing listens on " + config.admin().listenText() + ")");
          status = s;
        }
      }
      PrintWriter out = spec.commandLine().getOut();
      out.print(json ? status.toPrettyString() + "\n" : StatusView.render(status));
      out.flush();
      return Reason.HEALTHY.name().equals(status.path("reason").asText())
          ? ExitCodes.OK
          : ExitCodes.UNHEALTHY;
    }
  }

  /**
   * Shared by failover and switchover: the daemon's API when one runs, else the same loop code
   * directly.
   */
  abstract static class ManualCommand implements Callable<Integer> {
    @CommandLine.Mixin ConfigOption opts = new ConfigOption();

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    abstract Request request();

    abstract String path();

    @Override
    public Integer call() throws Exception {
      ControllerConfig config = opts.load();
      AdminClient client = new AdminClient(config);
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      String command = spec.name();
      JsonNode result;
      try {
        if (client.probe() == AdminClient.Daemon.ANSWERS) {
          AdminClient.Answer a = client.post(path(), body(request()));
          if (a.httpStatus() == 401 || a.httpStatus() == 403) {
            err.println(
                "failoverctl: the daemon refused the request: " + a.body().path("error").asText());
            return ExitCodes.PERMISSION;
          }
          result = a.body();
          ((ObjectNode) result).put("via", "daemon");
        } else {
          // Nothing listens on admin.listen: act directly, but never beside another actor on this
          // host (a daemon whose API is not up yet, another direct command).
          Optional<ActorLock> lock = actorLock(config, command, spec);
          if (lock.isEmpty()) {
            return ExitCodes.FAILED;
          }
          try (ActorLock held = lock.get()) {
            result = direct(config);
          }
        }
      } catch (AdminClient.Unreachable e) {
        err.println("failoverctl " + command + ": " + e.getMessage());
        return ExitCodes.FAILED;
      }
      out.println(result.toPrettyString());
      out.flush();
      if (!result.path("ok").asBoolean(false)) {
        // Refused by the lease (a follower, or a leader whose lease lapsed): nothing was changed.
        return result.path("refused").asBoolean(false) ? ExitCodes.REFUSED : ExitCodes.FAILED;
      }
      Reason reason = Reason.valueOf(result.path("reason").asText(Reason.REQUEST_REFUSED.name()));
      return reason.carriesOutARequest() ? ExitCodes.OK : ExitCodes.REFUSED;
    }

    /** The same decision and actions as the daemon's, run once by this process. */
    private JsonNode direct(ControllerConfig config) {
      Clock clock = Clock.systemUTC();
      EventLog events = new EventLog(config.eventLog(), clock, config.cluster());
      try (Backends backends = Wiring.connect(config, Wiring.AwsAccess.DEFAULT_CHAIN);
          ControlLoop loop =
              Wiring.loop(
                  config,
                  backends,
                  events,
                  new Metrics(),
                  clock,
                  Wiring.Purpose.OPERATOR_REQUEST)) {
        // In a pair, acting directly needs the lease (a free one is taken at once) unless the
        // lease store is unreachable and the operator said --force.
        loop.submit(request());
        LoopReport r = loop.runOnce();
        loop.leadership().release();
        ObjectNode result = AdminServer.result(r);
        result.put("via", "direct (nothing listens on " + config.admin().listenText() + ")");
        return result;
      }
    }

    private static String body(Request r) {
      ObjectNode b = StatusView.JSON.createObjectNode();
      if (r instanceof Request.Failover f) {
        f.to().ifPresent(t -> b.put("to", t));
        b.put("force", f.force());
      } else if (r instanceof Request.Switchover s) {
        b.put("to", s.to());
      } else if (r instanceof Request.Rejoin j) {
        b.put("node", j.node());
      }
      return b.toString();
    }
  }

  @Command(name = "failover", description = "Promote a standby now and move the routes to it.")
  static final class FailoverCmd extends ManualCommand {
    @Option(names = "--to", description = "the standby to promote (default: the most advanced)")
    String to;

    @Option(
        names = "--force",
        description =
            "skip the witness and lag guards; fail over even from a reachable primary (its writes"
                + " are stopped first)")
    boolean force;

    @Override
    Request request() {
      return new Request.Failover(Optional.ofNullable(to), force);
    }

    @Override
    String path() {
      return "/failover";
    }
  }

  @Command(
      name = "switchover",
      description =
          "Planned move of the primary role, losing nothing: stop writes, catch up, promote,"
              + " repoint.")
  static final class SwitchoverCmd extends ManualCommand {
    @Option(names = "--to", required = true, description = "the standby to become primary")
    String to;

    @Override
    Request request() {
      return new Request.Switchover(to);
    }

    @Override
    String path() {
      return "/switchover";
    }
  }

  @Command(
      name = "rejoin",
      description =
          "Bring a node back as a standby of the primary, through its agent (rewind, or re-clone"
              + " when allowed).")
  static final class RejoinCmd extends ManualCommand {
    @CommandLine.Parameters(index = "0", paramLabel = "NODE", description = "the node to rejoin")
    String node;

    @Override
    Request request() {
      return new Request.Rejoin(node);
    }

    @Override
    String path() {
      return "/rejoin";
    }
  }

  @Command(
      name = "preflight",
      description =
          "Check the config, PostgreSQL reachability and the AWS side (identity, route tables,"
              + " instances, permissions).")
  static final class Preflight implements Callable<Integer> {
    @CommandLine.Mixin ConfigOption opts = new ConfigOption();

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      ControllerConfig config = opts.load();
      PrintWriter out = spec.commandLine().getOut();
      List<Backends.Check> checks = new ArrayList<>();
      checks.add(
          new Backends.Check(
              Backends.Check.Severity.OK,
              "config",
              "valid: "
                  + config.nodes().size()
                  + " nodes, "
                  + config.routeTables().size()
                  + " route tables",
              ""));
      try (Backends backends = Wiring.connect(config, Wiring.AwsAccess.DEFAULT_CHAIN)) {
        checks.addAll(backends.preflight());
      }
      boolean failed = false;
      for (Backends.Check c : checks) {
        out.printf(
            "%-5s %-28s %s%s%n",
            c.severity(),
            c.subject(),
            c.message(),
            c.fix().isEmpty() ? "" : "\n      fix: " + c.fix());
        failed |= c.failed();
      }
      out.flush();
      return failed ? ExitCodes.UNHEALTHY : ExitCodes.OK;
    }
  }

  @Command(
      name = "config",
      description = "Configuration tools.",
      subcommands = {ConfigCmd.Check.class, ConfigFromStack.class})
  static final class ConfigCmd {
    @Command(
        name = "check",
        description = "Validate a configuration file; prints every error with its line and fix.")
    static final class Check implements Callable<Integer> {
      @CommandLine.Mixin ConfigOption opts = new ConfigOption();

      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Override
      public Integer call() {
        try {
          ControllerConfig c = opts.load();
          spec.commandLine()
              .getOut()
              .printf(
                  "config ok: cluster %s, %d nodes, %d route tables; %s%n",
                  c.cluster(),
                  c.nodes().size(),
                  c.routeTables().size(),
                  Detection.of(c).describe());
          Detection.caution(c).ifPresent(spec.commandLine().getOut()::println);
          spec.commandLine().getOut().flush();
          return ExitCodes.OK;
        } catch (ConfigException e) {
          spec.commandLine().getErr().println(e.getMessage());
          return ExitCodes.CONFIG;
        }
      }
    }
  }

  @Command(name = "version", description = "Print the version.")
  static final class VersionCmd implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getOut().println(new Version().getVersion()[0]);
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
  }
}
