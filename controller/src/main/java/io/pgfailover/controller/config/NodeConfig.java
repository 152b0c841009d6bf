package io.pgfailover.controller.config;

import java.util.Map;

/**
 * One PostgreSQL server and the EC2 resources it runs on.
 *
 * @param eniId the route target for the virtual IP (preferred over the instance id: it survives a
 *     stop/start)
 * @param jdbc extra pgjdbc properties passed through unchanged, e.g. {@code sslmode: verify-full}
 * @param agent the node agent on its host; empty: the controller reaches the node through SQL only
 *     (no rejoin)
 */
public record NodeConfig(
    String name,
    String instanceId,
    String eniId,
    String host,
    int port,
    String database,
    String user,
    PasswordConfig password,
    Map<String, String> jdbc,
    java.util.Optional<AgentEndpoint> agent) {}
