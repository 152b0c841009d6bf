package io.pgfailover.controller.wiring;

import io.pgfailover.controller.config.ControllerConfig;
import io.pgfailover.controller.port.Backends;

/** Builds the production {@link Backends}: pg-probe for PostgreSQL, aws-adapter for EC2. */
public final class Wiring {
  private Wiring() {}

  public static Backends connect(ControllerConfig config) {
    throw new UnsupportedOperationException("wired once pg-probe and aws-adapter land");
  }
}
