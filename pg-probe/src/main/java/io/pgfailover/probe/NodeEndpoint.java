package io.pgfailover.probe;

import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * How to reach one PostgreSQL node. {@code jdbcProperties} go to the PostgreSQL JDBC driver
 * unchanged (TLS: {@code sslmode}, {@code sslrootcert}, {@code sslcert}, {@code sslkey}, ...);
 * credentials and timeouts are not accepted there because the probe owns them.
 *
 * @param name the operator's name for the node, e.g. {@code pg-a}; used in logs and as the
 *     heartbeat key
 */
public record NodeEndpoint(
    String name,
    String host,
    int port,
    String database,
    String user,
    PasswordSource password,
    Map<String, String> jdbcProperties) {

  /** Properties the probe sets itself, with the setting an operator should change instead. */
  private static final Map<String, String> RESERVED =
      Map.of(
          "user", "NodeEndpoint.user",
          "password", "NodeEndpoint.password (a PasswordSource)",
          "connecttimeout", "ProbeSettings.deadline",
          "sockettimeout", "ProbeSettings.deadline",
          "logintimeout", "ProbeSettings.deadline");

  public NodeEndpoint {
    requireText(name, "name", "e.g. pg-a");
    requireText(host, "host", "a DNS name or IP address");
    requireText(database, "database", "e.g. postgres");
    requireText(user, "user", "a role with pg_monitor, e.g. pgfailover");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(
          "node " + name + ": port " + port + " must be between 1 and 65535");
    }
    Objects.requireNonNull(
        password, "node " + name + ": password source must be set (env, file or pgpass)");
    Objects.requireNonNull(
        jdbcProperties, "node " + name + ": jdbcProperties must be set (may be empty)");
    for (String key : jdbcProperties.keySet()) {
      String instead = RESERVED.get(key.toLowerCase(Locale.ROOT));
      if (instead != null) {
        throw new IllegalArgumentException(
            "node "
                + name
                + ": jdbcProperties must not set '"
                + key
                + "'; set "
                + instead
                + " instead");
      }
    }
    jdbcProperties = Map.copyOf(jdbcProperties);
  }

  /** An endpoint with no extra driver properties. */
  public static NodeEndpoint of(
      String name, String host, int port, String database, String user, PasswordSource password) {
    return new NodeEndpoint(name, host, port, database, user, password, Map.of());
  }

  public NodeEndpoint withPassword(PasswordSource newPassword) {
    return new NodeEndpoint(name, host, port, database, user, newPassword, jdbcProperties);
  }

  public NodeEndpoint withJdbcProperties(Map<String, String> properties) {
    return new NodeEndpoint(name, host, port, database, user, password, properties);
  }

  private static void requireText(String value, String field, String example) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          "NodeEndpoint." + field + " must not be empty (" + example + ")");
    }
  }

  /** Masks driver properties that may hold secrets (e.g. sslpassword). */
  @Override
  public String toString() {
    Set<String> secret =
        jdbcProperties.keySet().stream()
            .filter(k -> k.toLowerCase(Locale.ROOT).contains("password"))
            .collect(Collectors.toSet());
    Map<String, String> shown = new TreeMap<>(jdbcProperties);
    secret.forEach(k -> shown.put(k, "***"));
    return "NodeEndpoint[name="
        + name
        + ", host="
        + host
        + ", port="
        + port
        + ", database="
        + database
        + ", user="
        + user
        + ", password="
        + password
        + ", jdbcProperties="
        + shown
        + "]";
  }
}
