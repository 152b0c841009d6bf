package io.pgfailover.probe;

import java.util.Objects;
import java.util.Optional;

/** Outcome of the heartbeat write on a primary: {@code ok}, or why the primary could not write. */
public record WriteCheck(boolean ok, Optional<String> error) {

  public WriteCheck {
    Objects.requireNonNull(error, "error");
    if (ok == error.isPresent()) {
      throw new IllegalArgumentException("a write check has an error exactly when it failed");
    }
  }

  public static WriteCheck passed() {
    return new WriteCheck(true, Optional.empty());
  }

  public static WriteCheck failed(String error) {
    return new WriteCheck(false, Optional.of(error));
  }
}
