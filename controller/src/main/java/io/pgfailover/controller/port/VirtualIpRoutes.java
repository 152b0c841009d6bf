package io.pgfailover.controller.port;

import io.pgfailover.controller.decide.VirtualIpRoute;
import java.util.List;

/**
 * The configured route tables' virtual-IP routes. Implemented over aws-adapter; only it talks to
 * AWS.
 *
 * <p>Contract: never throws for an AWS failure; bounded by the adapter's retry deadline.
 */
public interface VirtualIpRoutes {
  /** Every table's current virtual-IP target; a table that could not be read is {@code UNKNOWN}. */
  List<VirtualIpRoute> read();

  /**
   * Point the virtual-IP route of each of {@code routeTables} (configured tables) at {@code
   * targetId}: tables already right are not written, the rest are replaced (or created when
   * allowed), then all are read back and verified. The check may be the last {@link #read} (it
   * saves a round trip when the loop has just read the routes); the read-back covers any table that
   * changed since. Idempotent; ok only when every one of them ends on the target. {@code
   * fields.api_calls} counts the EC2 calls made.
   */
  StepResult pointAt(String targetId, List<String> routeTables);
}
