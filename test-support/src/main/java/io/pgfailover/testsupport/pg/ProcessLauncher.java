package io.pgfailover.testsupport.pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The one place where PostgreSQL processes are started. initdb refuses to run as root, so when the
 * JVM is root every PostgreSQL command runs as an unprivileged OS user ({@code
 * PGFAILOVER_PG_OS_USER}, default {@code postgres}) through {@code setpriv}, which execs: the
 * started process IS the postmaster, a child of this JVM that the JVM reaps. In the netns lab every
 * command runs under {@code ip netns exec NS}, which execs too.
 */
public final class ProcessLauncher {

  public static final String OS_USER_ENV = "PGFAILOVER_PG_OS_USER";

  /** By its full path: the node agent runs commands without a PATH lookup. */
  static final String SETPRIV = "/usr/bin/setpriv";

  private final Optional<String> osUser;
  private final Optional<String> osGroup;
  private final Optional<String> netns;

  private ProcessLauncher(Optional<String> osUser) {
    this(osUser, osUser.map(ProcessLauncher::primaryGroup), Optional.empty());
  }

  private ProcessLauncher(
      Optional<String> osUser, Optional<String> osGroup, Optional<String> netns) {
    this.osUser = osUser;
    this.osGroup = osGroup;
    this.netns = netns;
  }

  /**
   * The same launcher, running its commands inside network namespace {@code ns} (none: the
   * caller's).
   */
  public ProcessLauncher inNetns(Optional<String> ns) {
    return new ProcessLauncher(osUser, osGroup, ns);
  }

  /** Runs commands as ourselves, or as the unprivileged OS user when we are root. */
  public static ProcessLauncher detect() {
    if (!isRoot()) {
      return new ProcessLauncher(Optional.empty());
    }
    String user =
        Optional.ofNullable(System.getenv(OS_USER_ENV))
            .filter(s -> !s.isBlank())
            .orElse("postgres");
    if (!Files.isExecutable(Path.of("/usr/bin/setpriv"))
        && !Files.isExecutable(Path.of("/bin/setpriv"))) {
      throw new IllegalStateException(
          "running as root needs setpriv (package util-linux) to start PostgreSQL as OS user "
              + user);
    }
    try {
      UserPrincipalLookupService lookup =
          Path.of("/").getFileSystem().getUserPrincipalLookupService();
      lookup.lookupPrincipalByName(user);
    } catch (UserPrincipalNotFoundException e) {
      throw new IllegalStateException(
          "running as root: PostgreSQL must run as an unprivileged OS user, but user '"
              + user
              + "' does not exist; create it (useradd --system "
              + user
              + ") or set "
              + OS_USER_ENV,
          e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot look up OS user " + user, e);
    }
    return new ProcessLauncher(Optional.of(user));
  }

  static boolean isRoot() {
    try {
      // /proc/self is owned by the effective uid of the reading process.
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  public Optional<String> osUser() {
    return osUser;
  }

  /** The argv actually executed for a PostgreSQL command. */
  public List<String> commandLine(List<String> pgArgv) {
    List<String> cmd = new ArrayList<>();
    netns.ifPresent(ns -> cmd.addAll(List.of("ip", "netns", "exec", ns)));
    osUser.ifPresent(
        user ->
            cmd.addAll(
                List.of(
                    SETPRIV,
                    "--reuid=" + user,
                    "--regid=" + osGroup.get(),
                    "--init-groups",
                    "--")));
    cmd.addAll(pgArgv);
    return cmd;
  }

  /**
   * Starts a long-running PostgreSQL process (the postmaster) with output appended to {@code log}.
   */
  public Process start(List<String> pgArgv, Path log, Map<String, String> env) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(commandLine(pgArgv));
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    return pb.start();
  }

  /** Runs a PostgreSQL tool to completion; a non-zero exit throws with the end of its output. */
  public void run(List<String> pgArgv, Path log, Map<String, String> env, Duration timeout) {
    try {
      Process p = start(pgArgv, log, env);
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IllegalStateException(
            pgArgv.get(0) + " did not finish within " + timeout + "; see " + log);
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            String.join(" ", pgArgv)
                + " exited with "
                + p.exitValue()
                + "; last output:\n"
                + tail(log));
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + pgArgv.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + pgArgv.get(0), e);
    }
  }

  /** Gives {@code dir} (recursively) to the server's OS user so that PostgreSQL may write there. */
  public void chownToServerUser(Path dir) {
    if (osUser.isEmpty()) {
      return;
    }
    try {
      UserPrincipalLookupService lookup = dir.getFileSystem().getUserPrincipalLookupService();
      UserPrincipal user = lookup.lookupPrincipalByName(osUser.get());
      GroupPrincipal group = lookup.lookupPrincipalByGroupName(osGroup.get());
      try (Stream<Path> all = Files.walk(dir)) {
        for (Path p : (Iterable<Path>) all::iterator) {
          PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class);
          view.setOwner(user);
          view.setGroup(group);
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot chown " + dir + " to " + osUser.get(), e);
    }
  }

  /**
   * Sends a signal by name (STOP, CONT, INT, KILL) to the given processes; vanished processes are
   * ignored.
   */
  public static void signal(String signal, List<Long> pids) {
    if (pids.isEmpty()) {
      return;
    }
    List<String> cmd = new ArrayList<>(List.of("kill", "-s", signal));
    pids.forEach(pid -> cmd.add(Long.toString(pid)));
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes(); // "No such process" for a child that just exited is fine
      p.waitFor(10, TimeUnit.SECONDS);
    } catch (IOException e) {
      throw new IllegalStateException("cannot run kill -s " + signal, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while sending SIG" + signal, e);
    }
  }

  private static String primaryGroup(String user) {
    try {
      Process p = new ProcessBuilder("id", "-gn", user).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("id -gn " + user + " failed: " + out);
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run id -gn " + user, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    } catch (IOException e) {
      return "(no log at " + log + ")";
    }
  }
}
