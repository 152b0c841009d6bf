package io.pgfailover.controller.agent;

import io.pgfailover.controller.config.AgentConfig;
import io.pgfailover.controller.decide.NodeObservation;
import io.pgfailover.controller.port.NodeAgents;
import io.pgfailover.probe.NodeEndpoint;
import io.pgfailover.probe.PgProbe;
import io.pgfailover.probe.ProbeResult;
import io.pgfailover.probe.ProbeSettings;
import io.pgfailover.probe.Reachability;
import io.pgfailover.probe.Role;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The active witness: this host probes its upstream (the server its {@code primary_conninfo} names)
 * every interval with the controller's own bounded probe, so the controller can ask "did the
 * standby's host reach the primary?" and not only "did its WAL receiver hear from it?". The probe
 * logs in as the agent's local role, which exists on the upstream too (roles replicate), and runs
 * on sessions kept open between probes ({@link PgProbe#watch}, as the controller's watch): a new
 * login per probe took tens of ms on a busy host, and a primary that died inside one was reported
 * {@code SLOW} (alive) and its failure seen a second late. A query answered there after its
 * deadline makes the next probe {@code SLOW}: the primary was alive after that query was sent. The
 * next probe starts {@code interval} after one ends: probes never overlap (overlapping ones, tried
 * on a lossy link, left most of each other's connections unanswered).
 */
final class UpstreamWatch implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(UpstreamWatch.class);

  /**
   * What one host:port's probes have shown; replaced whenever the target changes. {@code
   * answeredNanos}: the start of the last probe the server sent anything to, a reach or {@code
   * slow}. {@code failures} counts the failed probes that began after the last answer.
   */
  private record Seen(
      String target,
      long reachedNanos,
      Role reachedAs,
      long answeredNanos,
      int failures,
      String lastFailure,
      long probedNanos) {}

  private final AgentConfig config;

  /** The probe's name for the upstream, whichever server it is. */
  private final String probedAs;

  private final Supplier<Optional<HostPort>> upstream;
  private final PgProbe probe;
  private final ScheduledExecutorService timer;
  private Seen seen; // guarded by this

  /**
   * @param upstream where the local server's {@code primary_conninfo} points now, if anywhere
   */
  UpstreamWatch(AgentConfig config, Supplier<Optional<HostPort>> upstream) {
    this.config = config;
    this.probedAs = config.node() + "-upstream";
    this.upstream = upstream;
    this.probe =
        new PgProbe(
            ProbeSettings.defaults()
                .withDeadline(config.witness().timeout())
                .withWriteCheck(false));
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "upstream-watch");
              t.setDaemon(true);
              return t;
            });
  }

  void start() {
    long every = config.witness().interval().toMillis();
    timer.scheduleWithFixedDelay(this::probeOnce, 0, every, TimeUnit.MILLISECONDS);
  }

  /** One probe; never throws (a throw would end the schedule). */
  void probeOnce() {
    try {
      Optional<HostPort> to = upstream.get();
      if (to.isEmpty()) {
        synchronized (this) {
          seen = null;
        }
        return;
      }
      String target = to.get().host() + ":" + to.get().port();
      long began = System.nanoTime();
      ProbeResult r =
          probe.watch(
              NodeEndpoint.of(
                  probedAs,
                  to.get().host(),
                  to.get().port(),
                  "postgres",
                  config.postgres().local().user(),
                  config.postgres().local().password().source()));
      record(target, began, System.nanoTime(), r);
    } catch (RuntimeException e) {
      log.error("event=upstream_watch_bug error=\"{}\"", e.toString(), e);
    }
  }

  /**
   * A reach is dated at its probe's start: the answer came somewhere within the probe (tens of ms
   * on a busy host), and dated at its end, the last answer of a primary that died during the probe
   * seemed to come after the controller's first failed probe began, which held back the standby
   * host's agreement. From the start, a reach after that is surely one.
   */
  private synchronized void record(String target, long began, long now, ProbeResult r) {
    Seen before = seen != null && seen.target().equals(target) ? seen : null;
    long reached = before == null ? 0 : before.reachedNanos();
    Role as = before == null ? Role.UNKNOWN : before.reachedAs();
    long answered = before == null ? 0 : before.answeredNanos();
    int failures = before == null ? 0 : before.failures();
    if (r.reachable()) {
      seen =
          new Seen(
              target, Math.max(reached, began), r.role(), Math.max(answered, began), 0, "", now);
    } else if (r.reachability() == Reachability.SLOW) {
      // It answered, too late to finish: alive, so no failure; but not a reach either, since its
      // bytes may have come at the probe's start, just before a freeze, and a reach dated at the
      // probe's end would then veto the failover of a primary that was already silent. Dated at
      // the start, it still shows the server alive then (ActiveWitness: no agreement).
      seen = new Seen(target, reached, as, Math.max(answered, began), 0, "", now);
    } else {
      // Probes never overlap, so every failure began after the last answer.
      seen =
          new Seen(
              target,
              reached,
              as,
              answered,
              failures + 1,
              NodeObservation.text(r.reachability()),
              now);
    }
  }

  /** What the controller reads in the facts. */
  Optional<NodeAgents.Upstream> view() {
    Seen s;
    synchronized (this) {
      s = seen;
    }
    if (s == null) {
      return Optional.empty();
    }
    long now = System.nanoTime();
    boolean reached = s.reachedNanos() != 0;
    // An answer that came late, after its probe had ended as a failure, counts at once: the
    // controller may ask before the next probe would see it.
    long answered =
        Math.max(s.answeredNanos(), probe.lastAnswerSent(probedAs).orElse(s.answeredNanos()));
    return Optional.of(
        new NodeAgents.Upstream(
            s.target(),
            ageMs(s.reachedNanos(), now),
            reached ? Optional.of(s.reachedAs()) : Optional.empty(),
            ageMs(answered, now),
            s.failures(),
            s.lastFailure().isEmpty() ? Optional.empty() : Optional.of(s.lastFailure()),
            OptionalLong.of((now - s.probedNanos()) / 1_000_000)));
  }

  /** Milliseconds since {@code nanos}; empty for 0 (never). */
  private static OptionalLong ageMs(long nanos, long now) {
    return nanos == 0 ? OptionalLong.empty() : OptionalLong.of((now - nanos) / 1_000_000);
  }

  @Override
  public void close() {
    timer.shutdownNow();
    probe.close();
  }
}
