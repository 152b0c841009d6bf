package io.pgfailover.controller.port;

import java.util.List;

/** The ports wired to real PostgreSQL and AWS, built once per process from the configuration. */
public interface Backends extends AutoCloseable {
  /** What a loop acts through; {@code natEgress} is present with a {@code nat:} block. */
  Ports ports();

  /**
   * The controller pair's lease store; empty in single-controller mode (no {@code lease:} block).
   */
  default java.util.Optional<LeaseStore> leaseStore() {
    return java.util.Optional.empty();
  }

  /** The SNS topic of {@code notify.sns}; empty without one. */
  default java.util.Optional<NotificationTopic> notificationTopic() {
    return java.util.Optional.empty();
  }

  /** CloudWatch, with a {@code cloudwatch:} block; empty without one. */
  default java.util.Optional<MetricsSink> metricsSink() {
    return java.util.Optional.empty();
  }

  /**
   * {@code failoverctl preflight}: each node reachable and its login role's privileges, then the
   * AWS side (identity, route tables, instances, permissions), whose fix for a table without the
   * virtual-IP route names the ENI of the node found primary.
   */
  List<Check> preflight();

  /** One preflight finding, with a fix when it is not OK. */
  record Check(Severity severity, String subject, String message, String fix) {
    public enum Severity {
      OK,
      /** Works, but not as it should, or could not be checked. */
      WARN,
      /** Failover would not work: fix before starting. */
      FAIL
    }

    public boolean failed() {
      return severity == Severity.FAIL;
    }
  }

  @Override
  void close();
}
