package io.pgfailover.controller.config;

import java.util.List;
import java.util.stream.Collectors;

/** A configuration that cannot be used. Carries every error found, not just the first. */
public final class ConfigException extends Exception {
  private static final long serialVersionUID = 1L;
  private final transient List<ConfigError> errors;

  public ConfigException(List<ConfigError> errors) {
    super(
        errors.size()
            + " configuration error(s):\n"
            + errors.stream().map(e -> "  " + e).collect(Collectors.joining("\n")));
    this.errors = List.copyOf(errors);
  }

  public List<ConfigError> errors() {
    return errors;
  }
}
