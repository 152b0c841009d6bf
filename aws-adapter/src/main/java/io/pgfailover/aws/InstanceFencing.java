package io.pgfailover.aws;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fences a PostgreSQL instance by stopping it: the old primary must not take writes once the
 * virtual IP has moved. Idempotent: an instance already stopping or stopped gets no call. Never
 * throws for AWS failures.
 */
public final class InstanceFencing {
  private static final Logger log = LoggerFactory.getLogger(InstanceFencing.class);

  /** States in which the instance no longer runs PostgreSQL, or is on its way there. */
  private static final Set<String> FENCED_STATES =
      Set.of("stopping", "stopped", "shutting-down", "terminated");

  /**
   * First poll soon (a forced stop often shows as stopping at once), then back off up to a second.
   */
  private static final Duration FIRST_POLL = Duration.ofMillis(200);

  private static final Duration MAX_POLL = Duration.ofSeconds(1);

  /** A bound on polls besides the deadline. */
  private static final int MAX_POLLS = 120;

  private final AwsClients clients;
  private final Clock clock;
  private final Sleeper sleeper;

  public InstanceFencing(AwsClients clients) {
    this(clients, Sleeper.system());
  }

  public InstanceFencing(AwsClients clients, Sleeper sleeper) {
    this.clients = Objects.requireNonNull(clients, "clients");
    this.clock = clients.clock();
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
  }

  /**
   * Stops the instance with {@code Force=true} (no clean OS shutdown: the point is to stop it now)
   * and waits, at most {@code bound}, until EC2 reports it stopping or stopped.
   */
  public FenceResult stopInstance(String instanceId, Duration bound) {
    Objects.requireNonNull(instanceId, "instanceId");
    if (bound == null || bound.isNegative()) {
      throw new IllegalArgumentException("bound must be >= 0, got " + bound);
    }
    Instant start = clock.instant();
    Instant deadline = start.plus(bound);
    AtomicInteger calls = new AtomicInteger();

    Optional<String> before;
    try {
      before = Optional.of(state(instanceId, calls));
    } catch (AwsCallException e) {
      return done(
          instanceId,
          FenceResult.Outcome.FAILED,
          Optional.empty(),
          Optional.empty(),
          calls,
          start,
          "cannot read the instance: " + e.error().describe(),
          Optional.of(e.error()));
    }
    if (FENCED_STATES.contains(before.get())) {
      return done(
          instanceId,
          FenceResult.Outcome.ALREADY_STOPPED,
          before,
          before,
          calls,
          start,
          "instance already " + before.get() + ": nothing sent",
          Optional.empty());
    }

    log.info("event=instance_stop_start instance={} state={} force=true", instanceId, before.get());
    try {
      clients.call(
          "ec2:StopInstances",
          instanceId,
          calls,
          () -> clients.ec2().stopInstances(r -> r.instanceIds(instanceId).force(true)));
    } catch (AwsCallException e) {
      return done(
          instanceId,
          FenceResult.Outcome.FAILED,
          before,
          Optional.empty(),
          calls,
          start,
          "StopInstances failed: " + e.error().describe(),
          Optional.of(e.error()));
    }
    log.info("event=instance_stop_sent instance={}", instanceId);

    Duration wait = FIRST_POLL;
    String last = before.get();
    for (int poll = 1; poll <= MAX_POLLS; poll++) {
      try {
        last = state(instanceId, calls);
      } catch (AwsCallException e) {
        // Keep polling: the stop was accepted; a failed read says nothing about the instance.
        log.warn(
            "event=instance_stop_poll_failed instance={} kind={} error=\"{}\"",
            instanceId,
            e.kind(),
            e.error().message());
      }
      if (FENCED_STATES.contains(last)) {
        return done(
            instanceId,
            FenceResult.Outcome.STOPPED,
            before,
            Optional.of(last),
            calls,
            start,
            "instance " + last,
            Optional.empty());
      }
      Duration left = Duration.between(clock.instant(), deadline);
      if (left.isNegative() || left.isZero()) {
        break;
      }
      try {
        sleeper.sleep(wait.compareTo(left) < 0 ? wait : left);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      wait = wait.multipliedBy(2).compareTo(MAX_POLL) < 0 ? wait.multipliedBy(2) : MAX_POLL;
    }
    return done(
        instanceId,
        FenceResult.Outcome.NOT_CONFIRMED,
        before,
        Optional.of(last),
        calls,
        start,
        "StopInstances accepted but the instance was still "
            + last
            + " after "
            + bound.toMillis()
            + " ms",
        Optional.empty());
  }

  private String state(String instanceId, AtomicInteger calls) {
    return Ec2Discovery.instance(clients, instanceId, calls).state().nameAsString();
  }

  private FenceResult done(
      String instanceId,
      FenceResult.Outcome outcome,
      Optional<String> before,
      Optional<String> after,
      AtomicInteger calls,
      Instant start,
      String reason,
      Optional<AwsError> error) {
    FenceResult result =
        new FenceResult(
            instanceId,
            outcome,
            before,
            after,
            calls.get(),
            Duration.between(start, clock.instant()),
            Optional.of(reason),
            error);
    if (result.fenced()) {
      log.info(
          "event=instance_fenced instance={} outcome={} before={} after={} api_calls={} ms={}",
          instanceId,
          outcome,
          before.orElse("-"),
          after.orElse("-"),
          result.apiCalls(),
          result.elapsed().toMillis());
    } else {
      log.warn(
          "event=instance_fence_failed instance={} outcome={} before={} after={} api_calls={} ms={}"
              + " reason=\"{}\"",
          instanceId,
          outcome,
          before.orElse("-"),
          after.orElse("-"),
          result.apiCalls(),
          result.elapsed().toMillis(),
          reason);
    }
    return result;
  }
}
