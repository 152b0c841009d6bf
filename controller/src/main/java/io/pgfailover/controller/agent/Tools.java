package io.pgfailover.controller.agent;

import io.pgfailover.controller.events.LogText;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the PostgreSQL tools and service commands, each with a bounded wait. When the agent runs as
 * root, PostgreSQL's tools run as its OS user through {@code setpriv} (which execs, so the started
 * process is the tool). Every command gets a fixed, small environment: nothing of the agent's own
 * (no PGPASSWORD can leak in), {@code LC_ALL=C} so that output is parsed in one language, and only
 * the variables the caller names (a {@code PGPASSFILE}, never a password). Output goes to a file,
 * never to a pipe: {@code pg_ctl start} leaves a server behind that keeps its output open.
 */
final class Tools {
  private static final Logger log = LoggerFactory.getLogger(Tools.class);

  /** The last part of a command's output kept for messages. */
  static final int TAIL_BYTES = 2048;

  /** How much of a command's output {@link #capture} returns. */
  static final int CAPTURE_BYTES = 64 * 1024;

  /** Short commands that inspect rather than change: id, pg_controldata, postgres -V. */
  static final Duration INSPECT_TIMEOUT = Duration.ofSeconds(10);

  private static final Map<String, String> BASE_ENV =
      Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL", "C", "LANG", "C");

  /**
   * The OS user PostgreSQL runs as.
   *
   * @param switchTo whether commands must switch to it (the agent runs as root)
   */
  record OsUser(String name, long uid, long gid, String group, boolean switchTo) {}

  /**
   * How a command ended.
   *
   * @param exitCode -1 when it did not end by itself (timed out, could not start)
   * @param tail the end of its output, for messages
   */
  record Run(String command, int exitCode, boolean timedOut, String tail, long ms) {
    boolean ok() {
      return exitCode == 0;
    }

    /** "pg_rewind exited 1 after 120 ms: ..." */
    String describe() {
      String how = timedOut ? "did not finish in time and was killed" : "exited " + exitCode;
      return command
          + " "
          + how
          + " after "
          + ms
          + " ms"
          + (tail.isBlank() ? "" : ": " + tail.strip());
    }
  }

  private final OsUser osUser;
  private final Path scratch;

  /**
   * @param scratch a directory only the agent writes (its state directory) for captured output
   */
  Tools(OsUser osUser, Path scratch) {
    this.osUser = osUser;
    this.scratch = scratch;
  }

  OsUser osUser() {
    return osUser;
  }

  /**
   * Looks {@code name} up with {@code id}; the agent must run as root or as that user itself
   * (otherwise it could neither run the tools as that user nor read the data directory).
   */
  static OsUser resolve(String name) {
    String uid = id(name, "-u");
    String gid = id(name, "-g");
    String group = id(name, "-gn");
    long me = currentUid();
    if (me != 0 && me != Long.parseLong(uid)) {
      throw new IllegalStateException(
          "the agent runs as uid "
              + me
              + ", neither root nor postgres.osUser "
              + name
              + " (uid "
              + uid
              + "); fix: run it as root (the systemd unit does) or as "
              + name);
    }
    return new OsUser(
        name, Long.parseLong(uid), Long.parseLong(gid), group, me == 0 && !name.equals("root"));
  }

  /** Runs {@code argv} as the PostgreSQL OS user, its output appended to {@code output}. */
  Run asOsUser(List<String> argv, Map<String, String> env, Duration timeout, Path output) {
    return asOsUser(argv, env, timeout, output, true);
  }

  private Run asOsUser(
      List<String> argv, Map<String, String> env, Duration timeout, Path output, boolean logged) {
    List<String> cmd = new ArrayList<>();
    if (osUser.switchTo()) {
      cmd.addAll(
          List.of(
              "/usr/bin/setpriv",
              "--reuid=" + osUser.uid(),
              "--regid=" + osUser.gid(),
              "--init-groups",
              "--"));
    }
    cmd.addAll(argv);
    return run(argv, cmd, env, timeout, output, osUser.name(), logged);
  }

  /** Runs {@code argv} as the agent itself (systemctl, an operator's explicit command). */
  Run asAgent(List<String> argv, Duration timeout, Path output) {
    return run(argv, argv, Map.of(), timeout, output, "agent", true);
  }

  /** Runs {@code argv} as the OS user and returns its output (up to {@link #CAPTURE_BYTES}). */
  Captured capture(List<String> argv) {
    Path out = null;
    try {
      Files.createDirectories(scratch);
      out = Files.createTempFile(scratch, "tool-", ".out");
      // Inspections run on every facts request: logged at debug, not as actions.
      Run r = asOsUser(argv, Map.of(), INSPECT_TIMEOUT, out, false);
      return new Captured(r, tail(out, 0, CAPTURE_BYTES));
    } catch (IOException e) {
      return new Captured(
          new Run(name(argv), -1, false, "cannot capture its output: " + e.getMessage(), 0), "");
    } finally {
      if (out != null) {
        try {
          Files.deleteIfExists(out);
        } catch (IOException e) {
          log.warn(
              "event=tool_output_not_removed file={} error={}", out, LogText.quoted(e.toString()));
        }
      }
    }
  }

  /** A command's end and its whole (bounded) output. */
  record Captured(Run run, String output) {}

  private Run run(
      List<String> shown,
      List<String> cmd,
      Map<String, String> env,
      Duration timeout,
      Path output,
      String as,
      boolean logged) {
    String command = name(shown);
    long started = System.nanoTime();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().clear();
    Map<String, String> all = new LinkedHashMap<>(BASE_ENV);
    all.putAll(env);
    pb.environment().putAll(all);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(output.toFile()));
    pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    log.atLevel(logged ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG)
        .log(
            "event=tool_started command={} argv={} as={} env={} timeout_ms={}",
            command,
            LogText.quoted(String.join(" ", shown)),
            as,
            LogText.quoted(String.join(",", env.keySet())),
            timeout.toMillis());
    long before = output.toFile().length();
    Run r;
    try {
      Process p = pb.start();
      if (p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        r = new Run(command, p.exitValue(), false, tail(output, before, TAIL_BYTES), ms(started));
      } else {
        // Descendants first (a pg_ctl's shell), then the command itself.
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(5, TimeUnit.SECONDS);
        r = new Run(command, -1, true, tail(output, before, TAIL_BYTES), ms(started));
      }
    } catch (IOException e) {
      r = new Run(command, -1, false, "cannot run it: " + e.getMessage(), ms(started));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      r = new Run(command, -1, false, "interrupted", ms(started));
    }
    log.atLevel(logged || !r.ok() ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG)
        .log(
            "event=tool_finished command={} exit={} timed_out={} ms={}",
            command,
            r.exitCode(),
            r.timedOut(),
            r.ms());
    return r;
  }

  /** Gives {@code path} to the OS user (a file the agent wrote for PostgreSQL to read). */
  void chownToOsUser(Path path) throws IOException {
    if (!osUser.switchTo()) {
      return;
    }
    UserPrincipalLookupService lookup = path.getFileSystem().getUserPrincipalLookupService();
    UserPrincipal user = lookup.lookupPrincipalByName(osUser.name());
    GroupPrincipal group = lookup.lookupPrincipalByGroupName(osUser.group());
    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
    view.setOwner(user);
    view.setGroup(group);
  }

  private static String name(List<String> argv) {
    return Path.of(argv.get(0)).getFileName().toString();
  }

  private static long ms(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1_000_000;
  }

  /** The last {@code max} bytes written to a file after offset {@code from}, as text. */
  static String tail(Path file, long from, int max) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long start = Math.max(from, f.length() - max);
      byte[] buf = new byte[(int) (f.length() - start)];
      f.seek(start);
      f.readFully(buf);
      return new String(buf, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static String id(String name, String flag) {
    try {
      Process p = new ProcessBuilder("id", flag, name).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(INSPECT_TIMEOUT.toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(
            "postgres.osUser " + name + " cannot be looked up (id " + flag + ": " + out + ")");
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run id " + flag + " " + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted looking up " + name, e);
    }
  }

  private static long currentUid() {
    try {
      // /proc/self is owned by the effective uid of the reading process.
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).longValue();
    } catch (IOException | UnsupportedOperationException e) {
      throw new IllegalStateException("cannot read this process's uid from /proc/self", e);
    }
  }
}
