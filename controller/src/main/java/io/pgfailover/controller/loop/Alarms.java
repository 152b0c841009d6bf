package io.pgfailover.controller.loop;

import io.pgfailover.controller.decide.Action.Alarm;
import io.pgfailover.controller.decide.Action.AlarmKind;
import io.pgfailover.controller.events.EventLog;
import io.pgfailover.controller.events.LogText;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alarms the loop's decisions raise, as the operator sees them: each is logged and written to
 * the event history when it starts, when its message changes, every {@link #REMIND} while it lasts,
 * and when it clears; not once per loop. {@code pgfailover_alarm_active{kind}} says which are
 * active now.
 */
final class Alarms {
  private static final Logger log = LoggerFactory.getLogger(Alarms.class);

  /** A standing alarm is repeated this often, so a log reader arriving late still finds it. */
  static final Duration REMIND = Duration.ofMinutes(5);

  private record Active(String message, Instant lastSaid) {}

  private final Map<AlarmKind, Active> active = new EnumMap<>(AlarmKind.class);
  private final EventLog events;
  private final Metrics metrics;

  Alarms(EventLog events, Metrics metrics) {
    this.events = events;
    this.metrics = metrics;
  }

  /** Updates the active set from one loop's alarms. */
  void update(List<Alarm> raised, Instant now) {
    Map<AlarmKind, String> current = new EnumMap<>(AlarmKind.class);
    raised.forEach(a -> current.merge(a.kind(), a.message(), (x, y) -> x + "; " + y));
    current.forEach(
        (kind, message) -> {
          Active before = active.get(kind);
          if (before == null
              || !before.message().equals(message)
              || !now.isBefore(before.lastSaid().plus(REMIND))) {
            log.warn("event=alarm kind={} message={}", kind, LogText.quoted(message));
            // raised / changed / reminder: only a raise is news to be sent (notify.Notable).
            String state =
                before == null
                    ? "raised"
                    : before.message().equals(message) ? "reminder" : "changed";
            events.append("alarm", Map.of("kind", kind.name(), "message", message, "state", state));
            if (before == null) {
              metrics.count(
                  "pgfailover_alarms_total",
                  "Alarms raised (each start of an alarm), by kind.",
                  "kind=\"" + kind + "\"");
            }
            active.put(kind, new Active(message, now));
          }
          metrics.gauge(
              "pgfailover_alarm_active",
              "1 while an alarm of this kind is active.",
              "kind=\"" + kind + "\"",
              1);
        });
    for (AlarmKind kind : List.copyOf(active.keySet())) {
      if (!current.containsKey(kind)) {
        log.info("event=alarm_cleared kind={}", kind);
        events.append("alarm_cleared", Map.of("kind", kind.name()));
        active.remove(kind);
        metrics.gauge(
            "pgfailover_alarm_active",
            "1 while an alarm of this kind is active.",
            "kind=\"" + kind + "\"",
            0);
      }
    }
  }
}
