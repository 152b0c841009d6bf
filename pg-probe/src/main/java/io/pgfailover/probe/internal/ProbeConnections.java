package io.pgfailover.probe.internal;

import io.pgfailover.probe.NodeEndpoint;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/**
 * Opens one short-lived connection per probe. The driver's own timeouts are whole seconds, so they
 * are a backstop that ends an abandoned connect or read; the probe's deadline itself is enforced by
 * {@code PgProbe}, which stops waiting and aborts the socket.
 */
public final class ProbeConnections {

  private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

  private ProbeConnections() {}

  public static Connection open(NodeEndpoint node, Duration budget) throws SQLException {
    String password =
        node.password().password(node.host(), node.port(), node.database(), node.user());
    return DRIVER.connect(url(node), properties(node, password, budget));
  }

  /**
   * As {@link #open(NodeEndpoint, Duration)}, noting in {@code watch} whether the server spoke: one
   * try of a probe, which {@code PgProbe} abandons at the probe's deadline. The driver's timeouts
   * are set a second past the budget here, so that they never fire at the deadline itself: once,
   * with both at the same instant, a silent path saw five connections from one probe of four tries
   * (SlowPathIT; likely the driver trying again after its own timeout, before the abort reached
   * it).
   */
  public static Connection open(NodeEndpoint node, Duration budget, AnswerWatch.Handle watch)
      throws SQLException {
    String password =
        node.password().password(node.host(), node.port(), node.database(), node.user());
    Properties p = properties(node, password, budget);
    String backstop = Long.toString(Math.max(1, (budget.toMillis() + 999) / 1000) + 1);
    p.setProperty("connectTimeout", backstop);
    p.setProperty("socketTimeout", backstop);
    p.setProperty("socketFactory", AnswerWatch.class.getName());
    p.setProperty("socketFactoryArg", watch.id());
    return DRIVER.connect(url(node), p);
  }

  static String url(NodeEndpoint node) {
    String host =
        node.host().contains(":") && !node.host().startsWith("[")
            ? "[" + node.host() + "]"
            : node.host();
    return "jdbc:postgresql://"
        + host
        + ":"
        + node.port()
        + "/"
        + URLEncoder.encode(node.database(), StandardCharsets.UTF_8).replace("+", "%20");
  }

  static Properties properties(NodeEndpoint node, String password, Duration budget) {
    Properties p = new Properties();
    p.putAll(node.jdbcProperties());
    p.setProperty("user", node.user());
    p.setProperty("password", password);
    String seconds = Long.toString(Math.max(1, (budget.toMillis() + 999) / 1000));
    p.setProperty("connectTimeout", seconds);
    p.setProperty("socketTimeout", seconds);
    p.setProperty("tcpKeepAlive", "true");
    p.putIfAbsent("ApplicationName", "pgfailover-probe");
    // Lets the driver send its session settings in the startup packet instead of a second round
    // trip.
    p.putIfAbsent("assumeMinServerVersion", "10");
    // The server ends our statements at the budget too, so an abandoned probe leaves no work
    // behind.
    String options = node.jdbcProperties().getOrDefault("options", "");
    p.setProperty("options", (options + " -c statement_timeout=" + budget.toMillis()).trim());
    return p;
  }
}
