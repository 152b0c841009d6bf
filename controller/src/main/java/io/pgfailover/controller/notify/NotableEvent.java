package io.pgfailover.controller.notify;

import java.util.Locale;

/**
 * The events an operator is told about, each derived from one event of the history ({@link Notable}
 * says which). The lower-case name is what {@code notify.events} filters on, the hook's first
 * argument and the SNS message attribute {@code event}.
 */
public enum NotableEvent {
  FAILOVER_STARTED,
  FAILOVER_FINISHED,
  FAILOVER_FAILED,
  SWITCHOVER,
  REJOIN_STARTED,
  REJOIN_FINISHED,
  REJOIN_FAILED,
  ALARM_RAISED,
  ALARM_CLEARED,
  LEASE_ACQUIRED,
  LEASE_LOST,
  CONTROLLER_STARTED,
  CONTROLLER_STOPPING;

  public String text() {
    return name().toLowerCase(Locale.ROOT);
  }
}
