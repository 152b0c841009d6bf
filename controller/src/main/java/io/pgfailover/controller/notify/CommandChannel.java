package io.pgfailover.controller.notify;

import io.pgfailover.controller.events.LogText;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the operator's hook for each notification, as Patroni's callbacks and repmgr's {@code
 * event_notification_command} do: {@code COMMAND... EVENT NODE ROLE CLUSTER}, the event's JSON on
 * stdin. A run that passes its time is killed with every process it started; a non-zero exit is a
 * failed delivery (retried). Exit code, time and the output's tail are logged.
 */
final class CommandChannel implements Channel {
  private static final Logger log = LoggerFactory.getLogger(CommandChannel.class);

  /** The output's tail kept for the log: enough for an error message, bounded for a chatty hook. */
  static final int OUTPUT_TAIL_BYTES = 2048;

  private final List<String> command;
  private final Duration timeout;

  CommandChannel(List<String> command, Duration timeout) {
    this.command = List.copyOf(command);
    this.timeout = timeout;
  }

  @Override
  public String name() {
    return "command";
  }

  @Override
  public void deliver(Notification n, Duration within) throws Failed {
    List<String> argv = new ArrayList<>(command);
    argv.addAll(List.of(n.event().text(), n.node(), n.role(), n.cluster()));
    Duration bound = timeout.compareTo(within) < 0 ? timeout : within;
    long started = System.nanoTime();
    Process p;
    try {
      p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    } catch (IOException e) {
      throw new Failed("cannot start " + command.get(0) + ": " + e.getMessage());
    }
    Tail tail = new Tail(p.getInputStream());
    Thread reader = new Thread(tail, "notify-command-output");
    reader.setDaemon(true);
    reader.start();
    try (OutputStream stdin = p.getOutputStream()) {
      stdin.write((n.json() + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      // A hook that does not read its stdin has closed it: the arguments may be all it needs.
    }
    boolean exited;
    try {
      exited = p.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      exited = false;
    }
    if (!exited) {
      // The whole tree: a shell script's children would otherwise outlive it. Children first, again
      // until none is left (the hook may be forking while we kill), then the hook itself.
      List<ProcessHandle> children = p.descendants().toList();
      for (int round = 0; !children.isEmpty() && round < 10; round++) {
        children.forEach(ProcessHandle::destroyForcibly);
        children = p.descendants().filter(ProcessHandle::isAlive).toList();
      }
      p.destroyForcibly();
    }
    try {
      reader.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long ms = (System.nanoTime() - started) / 1_000_000;
    String output = LogText.quoted(tail.text());
    if (!exited) {
      log.warn(
          "event=notify_command_killed notification={} after_ms={} output={}",
          n.event().text(),
          ms,
          output);
      throw new Failed("killed after " + bound.toMillis() + " ms");
    }
    int exit = p.exitValue();
    if (exit != 0) {
      log.warn(
          "event=notify_command_failed notification={} exit={} ms={} output={}",
          n.event().text(),
          exit,
          ms,
          output);
      throw new Failed("exit code " + exit);
    }
    log.info(
        "event=notify_command_finished notification={} exit=0 ms={} output={}",
        n.event().text(),
        ms,
        output);
  }

  /** Reads a process's output to its end, keeping the last {@link #OUTPUT_TAIL_BYTES}. */
  private static final class Tail implements Runnable {
    private final InputStream in;
    private final byte[] ring = new byte[OUTPUT_TAIL_BYTES];
    private long total;

    Tail(InputStream in) {
      this.in = in;
    }

    @Override
    public void run() {
      byte[] buf = new byte[4096];
      try (in) {
        int r;
        while ((r = in.read(buf)) > 0) {
          synchronized (this) {
            for (int i = 0; i < r; i++) {
              ring[(int) (total++ % ring.length)] = buf[i];
            }
          }
        }
      } catch (IOException e) {
        // The process was killed: what was read so far is the tail.
      }
    }

    synchronized String text() {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      long from = Math.max(0, total - ring.length);
      for (long i = from; i < total; i++) {
        out.write(ring[(int) (i % ring.length)]);
      }
      return out.toString(StandardCharsets.UTF_8).strip();
    }
  }
}
