package io.pgfailover.controller.decide;

import java.util.List;

/** The outcome of one decision: what to do, and one sentence that says why. */
public record Decision(Reason reason, String message, List<Action> actions) {
  public Decision {
    actions = List.copyOf(actions);
  }

  public static Decision nothing(Reason reason, String message) {
    return new Decision(reason, message, List.of());
  }

  public boolean mutates() {
    return actions.stream().anyMatch(a -> !(a instanceof Action.Alarm));
  }
}
