package io.pgfailover.controller.config;

import java.net.URI;
import java.nio.file.Path;

/**
 * Where the controller reaches a node's agent ({@code failoverctl agent} on that host).
 *
 * @param url {@code http://<host's private address>:<port>}, as the agent's {@code listen} says
 * @param tokenFile the agent's bearer token, readable by its owner only (the same token as the
 *     agent's own {@code tokenFile})
 */
public record AgentEndpoint(URI url, Path tokenFile) {}
