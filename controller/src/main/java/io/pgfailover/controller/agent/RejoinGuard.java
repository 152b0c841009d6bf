package io.pgfailover.controller.agent;

import io.pgfailover.probe.Role;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The agent's own safety checks before a rejoin changes anything, checked when the request comes
 * and again on the worker just before PostgreSQL is stopped. The controller checks the same and
 * more (no route table points at this node), but the agent must not rely on it: it is the last one
 * that can refuse before data is thrown away.
 *
 * <p>Why a node whose timeline is the newest is never rewound:
 *
 * <ol>
 *   <li>Rewinding or recloning discards every WAL record of this node past the point where its
 *       history and the source's part. That is right only for a node whose branch ended when the
 *       source was promoted: its later writes were never on the timeline clients now use.
 *   <li>A primary writes on the newest timeline of its own history: a promotion to timeline T
 *       writes T's history file into pg_wal before the first write on T. So this node's timeline is
 *       its live one while it runs; stopped, it is the newest of its control file's checkpoint
 *       timeline, its minimum-recovery timeline and its history files. (A server killed right after
 *       its promotion has not checkpointed on T: its control file alone still says T−1.)
 *   <li>The source is checked live to be a primary on exactly {@code expectTimeline}; so is every
 *       controller's newest timeline, which the request carries.
 *   <li>This node on a timeline newer than {@code expectTimeline}: it saw a promotion the source
 *       did not. The source is the stale one. Refused.
 *   <li>This node on {@code expectTimeline} as a primary (running, or last in production or shut
 *       down as one, with no backup_label): two servers promoted to the same timeline number, each
 *       on its own, which is a split brain whose clients' branch cannot be known here. pg_rewind
 *       would even call it "no rewind required". Refused; an operator decides. So is an unknown
 *       role on that timeline.
 *   <li>This node on {@code expectTimeline} as a standby (or a restored copy: a backup_label from
 *       pg_rewind or pg_basebackup): it only needs pointing at the source; nothing when it already
 *       streams from it.
 *   <li>Otherwise this node is on an older timeline: its branch ended at the source's promotion.
 *       Rewind it. A node whose timeline cannot be read at all is refused.
 * </ol>
 */
final class RejoinGuard {
  private RejoinGuard() {}

  /** What the rejoin will do. */
  enum Plan {
    /** pg_rewind (reclone if allowed and rewind is impossible). */
    REWIND,
    /** A standby on the source's timeline: configure and restart only. */
    REPOINT,
    /** Already streams from the source on its timeline. */
    NOTHING_TO_DO
  }

  /** The source, as a live probe found it. */
  record Source(String address, boolean answered, Role role, OptionalLong timeline, String error) {}

  /**
   * This node.
   *
   * @param timeline live, else the newest of control file and history files (point 2)
   * @param streamingFromSource a running standby whose WAL receiver streams from the source
   */
  record Self(Role role, OptionalLong timeline, boolean streamingFromSource, String basis) {}

  /** A plan, or the reason for refusing with nothing changed. */
  record Verdict(Optional<Plan> plan, String reason) {
    static Verdict refused(String reason) {
      return new Verdict(Optional.empty(), reason);
    }

    static Verdict go(Plan plan, String reason) {
      return new Verdict(Optional.of(plan), reason);
    }

    boolean refused() {
      return plan.isEmpty();
    }
  }

  static Verdict check(Source source, Self self, long expectTimeline) {
    if (!source.answered()) {
      return Verdict.refused(
          "the source " + source.address() + " does not answer: " + source.error());
    }
    if (source.role() != Role.PRIMARY) {
      return Verdict.refused(
          "the source " + source.address() + " is not a primary (" + source.role() + ")");
    }
    if (source.timeline().isEmpty() || source.timeline().getAsLong() != expectTimeline) {
      return Verdict.refused(
          "the source "
              + source.address()
              + " is a primary on timeline "
              + (source.timeline().isPresent() ? source.timeline().getAsLong() : "unknown")
              + ", not on the expected timeline "
              + expectTimeline);
    }
    if (self.timeline().isEmpty()) {
      return Verdict.refused(
          "this node's timeline cannot be read (" + self.basis() + "): nothing is rewound blind");
    }
    long mine = self.timeline().getAsLong();
    String me = "this node is " + self.role() + " on timeline " + mine + " (" + self.basis() + ")";
    if (mine > expectTimeline) {
      return Verdict.refused(
          me
              + ", newer than the source's "
              + expectTimeline
              + ": the source is the stale one; never rewind the newest timeline");
    }
    if (mine == expectTimeline) {
      if (self.role() != Role.STANDBY) {
        return Verdict.refused(
            me
                + ", the source's timeline: two primaries on one timeline number is a split brain"
                + " an operator must resolve; never rewind the newest timeline");
      }
      return self.streamingFromSource()
          ? Verdict.go(Plan.NOTHING_TO_DO, me + " and streams from " + source.address())
          : Verdict.go(Plan.REPOINT, me + ": only re-pointing it at " + source.address());
    }
    return Verdict.go(
        Plan.REWIND, me + ", older than the source's " + expectTimeline + ": rewinding it");
  }
}
