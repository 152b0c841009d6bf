package io.pgfailover.controller.agent;

import static io.pgfailover.probe.Role.PRIMARY;
import static io.pgfailover.probe.Role.STANDBY;
import static io.pgfailover.probe.Role.UNKNOWN;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.controller.agent.RejoinGuard.Plan;
import io.pgfailover.controller.agent.RejoinGuard.Self;
import io.pgfailover.controller.agent.RejoinGuard.Source;
import io.pgfailover.probe.Role;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The guard's decision table: one row per point of its argument. */
class RejoinGuardTest {
  private static final Source PRIMARY_ON_3 =
      new Source("10.0.2.10:5432", true, PRIMARY, OptionalLong.of(3), "");

  record Row(
      String why, Source source, Self self, long expect, Optional<Plan> plan, String reason) {}

  private static Self self(Role role, long timeline) {
    return new Self(role, OptionalLong.of(timeline), false, "live");
  }

  @Test
  void theTable() {
    Row[] rows = {
      new Row(
          "the old primary on an older timeline is rewound",
          PRIMARY_ON_3,
          self(PRIMARY, 2),
          3,
          Optional.of(Plan.REWIND),
          "older than the source's 3"),
      new Row(
          "a stopped node of unknown role on an older timeline too",
          PRIMARY_ON_3,
          self(UNKNOWN, 1),
          3,
          Optional.of(Plan.REWIND),
          "rewinding it"),
      new Row(
          "a standby on the source's timeline is re-pointed",
          PRIMARY_ON_3,
          self(STANDBY, 3),
          3,
          Optional.of(Plan.REPOINT),
          "only re-pointing it"),
      new Row(
          "a standby already streaming from the source needs nothing",
          PRIMARY_ON_3,
          new Self(STANDBY, OptionalLong.of(3), true, "live"),
          3,
          Optional.of(Plan.NOTHING_TO_DO),
          "streams from 10.0.2.10:5432"),
      new Row(
          "point 5: a primary on the newest timeline is never rewound",
          PRIMARY_ON_3,
          self(PRIMARY, 3),
          3,
          Optional.empty(),
          "never rewind the newest timeline"),
      new Row(
          "point 5: nor a node of unknown role on it",
          PRIMARY_ON_3,
          self(UNKNOWN, 3),
          3,
          Optional.empty(),
          "split brain"),
      new Row(
          "point 4: a node on a newer timeline than the source",
          PRIMARY_ON_3,
          self(STANDBY, 4),
          3,
          Optional.empty(),
          "the source is the stale one"),
      new Row(
          "point 3: the source on another timeline than expected",
          PRIMARY_ON_3,
          self(PRIMARY, 2),
          4,
          Optional.empty(),
          "is a primary on timeline 3, not on the expected timeline 4"),
      new Row(
          "point 3: the source is a standby",
          new Source("s:1", true, STANDBY, OptionalLong.of(3), ""),
          self(PRIMARY, 2),
          3,
          Optional.empty(),
          "is not a primary (STANDBY)"),
      new Row(
          "point 3: the source does not answer",
          new Source("s:1", false, UNKNOWN, OptionalLong.empty(), "refused"),
          self(PRIMARY, 2),
          3,
          Optional.empty(),
          "does not answer: refused"),
      new Row(
          "point 7: this node's timeline cannot be read",
          PRIMARY_ON_3,
          new Self(UNKNOWN, OptionalLong.empty(), false, "no control file"),
          3,
          Optional.empty(),
          "cannot be read (no control file)"),
    };
    for (Row r : rows) {
      RejoinGuard.Verdict v = RejoinGuard.check(r.source(), r.self(), r.expect());
      assertEquals(r.plan(), v.plan(), r.why() + ": " + v.reason());
      assertEquals(true, v.reason().contains(r.reason()), r.why() + ": " + v.reason());
    }
  }
}
