package io.pgfailover.controller.decide;

import java.util.Optional;
import java.util.OptionalLong;

/**
 * One probe of one node, reduced to what decisions need.
 *
 * @param failure why the node could not be probed (refused, timeout, auth-failed, ...); empty when
 *     reachable
 * @param walPosition on a primary its current WAL LSN; on a standby the last WAL it received (else
 *     replayed)
 * @param writable the write check's result on a primary, empty when not run
 */
public record NodeObservation(
    String node,
    boolean reachable,
    Optional<String> failure,
    NodeRole role,
    OptionalLong timeline,
    OptionalLong walPosition,
    Optional<Witness> witness,
    Optional<Boolean> writable) {

  public static NodeObservation unreachable(String node, String failure) {
    return new NodeObservation(
        node,
        false,
        Optional.of(failure),
        NodeRole.UNKNOWN,
        OptionalLong.empty(),
        OptionalLong.empty(),
        Optional.empty(),
        Optional.empty());
  }

  public boolean isPrimary() {
    return reachable && role == NodeRole.PRIMARY;
  }

  public boolean isStandby() {
    return reachable && role == NodeRole.STANDBY;
  }
}
