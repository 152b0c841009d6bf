package io.pgfailover.controller.agent;

import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.config.AgentConfig;
import io.pgfailover.controller.config.AgentConfigLoader;
import io.pgfailover.controller.config.ConfigException;
import io.pgfailover.controller.events.ActorLock;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code failoverctl agent}: the node agent daemon, or {@code --check} of its config. */
@Command(
    name = "agent",
    description =
        "Run the node agent on a PostgreSQL host (its HTTP API: facts, start, stop, rejoin), or"
            + " --check its config.")
public final class AgentCommand implements Callable<Integer> {
  static final String DEFAULT_CONFIG = "/etc/pgfailover/agent.yaml";

  @Option(
      names = {"-c", "--config"},
      description = "agent YAML (default: $PGFAILOVER_AGENT_CONFIG or " + DEFAULT_CONFIG + ")")
  Path config;

  @Option(
      names = "--check",
      description = "validate the config, print every error with its line and fix, and exit")
  boolean check;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Path file =
        config != null
            ? config
            : Path.of(
                Optional.ofNullable(System.getenv("PGFAILOVER_AGENT_CONFIG"))
                    .orElse(DEFAULT_CONFIG));
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    AgentConfig c;
    try {
      c = AgentConfigLoader.load(file);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      err.flush();
      return ExitCodes.CONFIG;
    }
    if (check) {
      out.printf(
          "agent config ok: node %s, listen %s, data directory %s, start/stop %s, reclone %s%n",
          c.node(),
          c.listenText(),
          c.postgres().dataDirectory(),
          c.postgres().start().isPresent()
              ? "by explicit commands"
              : switch (c.postgres().service()) {
                case SYSTEMD -> "by systemd unit " + c.postgres().unit();
                case PG_CTL -> "by pg_ctl";
              },
          c.rejoin().reclone() ? "allowed" : "not allowed");
      out.flush();
      return ExitCodes.OK;
    }
    CountDownLatch stop = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  stop.countDown();
                  try {
                    stopped.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                }));
    try (Agent agent = Agent.start(c, Clock.systemUTC())) {
      stop.await();
    } catch (ActorLock.HeldException e) {
      err.println("failoverctl agent: " + e.getMessage());
      err.flush();
      return ExitCodes.FAILED;
    } finally {
      stopped.countDown();
    }
    return ExitCodes.OK;
  }
}
