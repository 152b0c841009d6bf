package io.pgfailover.controller.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Optional;

/**
 * The admin HTTP API.
 *
 * @param tokenFile holds the bearer token for POST endpoints; without it those endpoints are
 *     refused
 */
public record AdminConfig(InetSocketAddress listen, Optional<Path> tokenFile) {
  public static final String DEFAULT_LISTEN = "127.0.0.1:8008";

  /** host:port as the operator wrote it. */
  public String listenText() {
    return listen.getHostString() + ":" + listen.getPort();
  }
}
