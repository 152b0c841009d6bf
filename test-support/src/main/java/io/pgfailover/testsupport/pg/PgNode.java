package io.pgfailover.testsupport.pg;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * One PostgreSQL server of a {@link PostgresPair}: node "a" or node "b". Its role changes over its
 * life (a standby is promoted; the old primary is detached until it is re-made as a standby), so
 * tests ask the pair for {@link PostgresPair#primary()} rather than holding on to "the primary".
 */
public final class PgNode {

  /** What the harness knows this node to be. */
  public enum Role {
    PRIMARY,
    STANDBY,
    /**
     * A former primary after its standby was promoted: diverged, to be re-made by recreateStandby.
     */
    DETACHED
  }

  /** Where nodes listen in the loopback lab (the default). */
  public static final String HOST = "127.0.0.1";

  private final String name;
  private final String host;
  private final int port;
  private final Path dataDir;
  private final Path logFile;
  private volatile Role role;
  private volatile Process postmaster;
  private volatile boolean frozen;

  PgNode(String name, String host, int port, Path dataDir, Path logFile, Role role) {
    this.name = name;
    this.host = host;
    this.port = port;
    this.dataDir = dataDir;
    this.logFile = logFile;
    this.role = role;
  }

  public String name() {
    return name;
  }

  public String host() {
    return host;
  }

  public int port() {
    return port;
  }

  public Path dataDir() {
    return dataDir;
  }

  /** The server's stderr log (kept in target/pg-cluster-logs after the pair is closed). */
  public Path logFile() {
    return logFile;
  }

  public Role role() {
    return role;
  }

  public String jdbcUrl() {
    return jdbcUrl("postgres");
  }

  public String jdbcUrl(String database) {
    return "jdbc:postgresql://" + host + ":" + port + "/" + database;
  }

  public String superuser() {
    return PostgresPair.SUPERUSER;
  }

  public String superuserPassword() {
    return PostgresPair.SUPERUSER_PASSWORD;
  }

  /**
   * Whether a postmaster runs for this node (frozen counts as running), whoever started it: see
   * {@link #postmasterPid()}.
   */
  public boolean isRunning() {
    return postmasterPid().isPresent();
  }

  public boolean isFrozen() {
    return frozen;
  }

  /** The postmaster's PID. */
  public long pid() {
    return postmasterPid()
        .orElseThrow(() -> new IllegalStateException("node " + name + " is not running"));
  }

  /**
   * The running postmaster: the one the harness started, else the one this data directory's
   * postmaster.pid names, started outside the harness (by the node agent's {@code pg_ctl}, say).
   * The harness and whoever else starts the server so agree on which process is the node.
   */
  OptionalLong postmasterPid() {
    Process p = postmaster;
    if (p != null && p.isAlive()) {
      return OptionalLong.of(p.pid());
    }
    return Procs.postmasterOf(dataDir);
  }

  /** A superuser connection for test setup; the caller closes it. */
  public Connection connect() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", PostgresPair.SUPERUSER);
    props.setProperty("password", PostgresPair.SUPERUSER_PASSWORD);
    props.setProperty("connectTimeout", "2");
    props.setProperty("socketTimeout", "120");
    props.setProperty("ApplicationName", "pgfailover-testsupport");
    return DriverManager.getConnection(jdbcUrl(), props);
  }

  void role(Role newRole) {
    this.role = newRole;
  }

  Process postmaster() {
    return postmaster;
  }

  void postmaster(Process p) {
    this.postmaster = p;
  }

  void frozen(boolean value) {
    this.frozen = value;
  }

  @Override
  public String toString() {
    return "node "
        + name
        + " ("
        + role
        + ", "
        + host
        + ":"
        + port
        + (isRunning() ? "" : ", down")
        + (frozen ? ", frozen" : "")
        + ")";
  }
}
