package io.pgfailover.controller.notify;

import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.loop.Metrics;
import io.pgfailover.controller.port.Backends;
import java.util.Optional;

/**
 * What the daemon tells the outside, started beside its loop: the notifications ({@code notify:})
 * and the CloudWatch metrics ({@code cloudwatch:}); each absent without its block.
 */
public final class Notifications implements AutoCloseable {
  private final Optional<Notifier> notifier;
  private final Optional<CloudWatchPublisher> cloudWatch;

  private Notifications(Optional<Notifier> notifier, Optional<CloudWatchPublisher> cloudWatch) {
    this.notifier = notifier;
    this.cloudWatch = cloudWatch;
  }

  /** Follows {@code events} and starts the CloudWatch timer, as the config asks. */
  public static Notifications start(
      ControllerConfig config, Backends backends, EventLog events, Metrics metrics) {
    String controller = config.controllerName();
    Optional<Notifier> notifier =
        config.notifications().any()
            ? Optional.of(
                new Notifier(
                    config.notifications(),
                    backends.notificationTopic(),
                    controller,
                    events,
                    metrics))
            : Optional.empty();
    Optional<CloudWatchPublisher> cloudWatch =
        config
            .cloudWatch()
            .flatMap(
                c ->
                    backends
                        .metricsSink()
                        .map(
                            sink ->
                                new CloudWatchPublisher(
                                        c, sink, metrics, config.cluster(), controller)
                                    .start()));
    return new Notifications(notifier, cloudWatch);
  }

  /** Stops the timer; delivers the queued notifications within {@link Notifier#STOP_GRACE}. */
  @Override
  public void close() {
    cloudWatch.ifPresent(CloudWatchPublisher::close);
    notifier.ifPresent(Notifier::close);
  }
}
