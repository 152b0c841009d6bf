package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.Waits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * pg_auto_failover on the lab: its monitor on pgfo-ctl (the third host), a keeper ({@code
 * pg_autoctl run}) with PostgreSQL on pgfo-a and on pgfo-b. Node a registers first and becomes the
 * primary; node b clones it and becomes the secondary. With one standby pg_auto_failover replicates
 * synchronously ({@code synchronous_standby_names = 'ANY 1 (...)'}), its default. pg_autoctl edits
 * no pg_hba.conf here ({@code --skip-pg-hba}): the lab's own rules trust the lab's network, and no
 * TLS, so that nothing but failover differs from the other systems.
 */
final class AutoFailoverCluster extends PeerCluster {
  static final String MONITOR_URI =
      "postgres://autoctl_node@" + NetnsLab.IP_CTL + ":5432/pg_auto_failover?sslmode=disable";
  private static final String HBA =
      "host all all "
          + NetnsLab.LAB_CIDR
          + " trust\nhost replication all "
          + NetnsLab.LAB_CIDR
          + " trust\n";

  /**
   * The monitor's health-check settings (ms, GUCs {@code pgautofailover.*}) and the keepers' {@code
   * timeout.network_partition_timeout} (s).
   */
  record Timing(
      int healthCheckPeriodMs,
      int healthCheckTimeoutMs,
      int healthCheckMaxRetries,
      int healthCheckRetryDelayMs,
      int nodeConsideredUnhealthyTimeoutMs,
      int primaryDemoteTimeoutMs,
      int networkPartitionTimeoutS) {
    /** pg_auto_failover 2.0's defaults (the monitor's pg_settings; pg_autoctl config get). */
    static final Timing DEFAULTS = new Timing(5000, 5000, 2, 2000, 20000, 30000, 20);

    /**
     * The fast profile: the GUCs accept down to 1 ms (health_check_max_retries 1), but keepers
     * report once a second and count their timeouts in whole seconds, so everything is 1 s, except
     * that primary_demote_timeout stays above network_partition_timeout: the monitor must not
     * promote the standby before a cut-off primary has demoted itself.
     */
    static final Timing FAST = new Timing(1000, 1000, 1, 1000, 1000, 2000, 1);

    String summary() {
      return String.format(
          "health check every %d ms, timeout %d ms, %d retries %d ms apart; unhealthy after %d ms;"
              + " primary_demote_timeout %d ms; network_partition_timeout %d s",
          healthCheckPeriodMs,
          healthCheckTimeoutMs,
          healthCheckMaxRetries,
          healthCheckRetryDelayMs,
          nodeConsideredUnhealthyTimeoutMs,
          primaryDemoteTimeoutMs,
          networkPartitionTimeoutS);
    }

    String monitorConf() {
      return String.join(
          "\n",
          "pgautofailover.health_check_period = " + healthCheckPeriodMs,
          "pgautofailover.health_check_timeout = " + healthCheckTimeoutMs,
          "pgautofailover.health_check_max_retries = " + healthCheckMaxRetries,
          "pgautofailover.health_check_retry_delay = " + healthCheckRetryDelayMs,
          "pgautofailover.node_considered_unhealthy_timeout = " + nodeConsideredUnhealthyTimeoutMs,
          "pgautofailover.primary_demote_timeout = " + primaryDemoteTimeoutMs,
          "");
    }
  }

  private AutoFailoverCluster(Path dir) throws IOException {
    super(dir);
  }

  /** A fresh formation: node a primary, node b secondary, the monitor past its startup grace. */
  static AutoFailoverCluster start(Path dir, Timing timing) throws IOException {
    AutoFailoverCluster c = new AutoFailoverCluster(dir);
    try {
      c.startMonitor(timing);
      c.startNode("a", NetnsLab.HOST_A, NetnsLab.IP_A, timing);
      awaitStates(Map.of("a", "single"));
      c.startNode("b", NetnsLab.HOST_B, NetnsLab.IP_B, timing);
      awaitPrimaryOnAWithStandby();
      awaitStates(Map.of("a", "primary", "b", "secondary"));
      // The monitor starts no failover during pgautofailover.startup_grace_period after its start.
      Waits.until(
          "the monitor's startup grace period to pass",
          START_TIMEOUT,
          () ->
              monitorQuery(
                  "SELECT now() - pg_postmaster_start_time()"
                      + " > current_setting('pgautofailover.startup_grace_period')::interval"));
      return c;
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  private void startMonitor(Timing timing) throws IOException {
    String host = NetnsLab.CONTROLLER;
    Path pgdata = dataDir("monitor").resolve("pgdata");
    Map<String, String> env = env(host);
    runOn(
        host,
        "monitor-create.log",
        List.of(
            "pg_autoctl",
            "create",
            "monitor",
            "--pgdata",
            pgdata.toString(),
            "--pgport",
            "5432",
            "--hostname",
            NetnsLab.IP_CTL,
            "--no-ssl",
            "--skip-pg-hba"),
        env);
    append(pgdata.resolve("pg_hba.conf"), HBA);
    append(pgdata.resolve("postgresql.conf"), timing.monitorConf());
    startOn(host, "monitor.log", List.of("pg_autoctl", "run", "--pgdata", pgdata.toString()), env);
    Waits.until(
        "the pg_auto_failover monitor to answer",
        START_TIMEOUT,
        () -> monitorQuery("SELECT true FROM pgautofailover.formation LIMIT 1"));
  }

  private void startNode(String name, String host, String ip, Timing timing) throws IOException {
    Path pgdata = dataDir(name).resolve("pgdata");
    Map<String, String> env = env(host);
    runOn(
        host,
        name + "-create.log",
        List.of(
            "pg_autoctl",
            "create",
            "postgres",
            "--pgdata",
            pgdata.toString(),
            "--pgport",
            "5432",
            "--hostname",
            ip,
            "--name",
            name,
            "--dbname",
            "postgres",
            "--monitor",
            MONITOR_URI,
            "--no-ssl",
            "--skip-pg-hba"),
        env);
    if (!Files.readString(pgdata.resolve("pg_hba.conf")).contains(HBA)) {
      append(pgdata.resolve("pg_hba.conf"), HBA); // b's copy of a's already has the rules
    }
    runOn(
        host,
        name + "-create.log",
        List.of(
            "pg_autoctl",
            "config",
            "set",
            "--pgdata",
            pgdata.toString(),
            "timeout.network_partition_timeout",
            Integer.toString(timing.networkPartitionTimeoutS())),
        env);
    startOn(host, name + ".log", List.of("pg_autoctl", "run", "--pgdata", pgdata.toString()), env);
  }

  /**
   * pg_autoctl keeps its config and state under XDG directories (per host here) and reaches its own
   * PostgreSQL through the unix socket that PG_REGRESS_SOCK_DIR makes it start with ({@code -k}).
   */
  private Map<String, String> env(String host) throws IOException {
    Path home = dataDir(host + "-home");
    Map<String, String> env = new HashMap<>();
    env.put("HOME", home.toString());
    env.put("XDG_CONFIG_HOME", home.resolve("config").toString());
    env.put("XDG_DATA_HOME", home.resolve("data").toString());
    env.put("XDG_RUNTIME_DIR", home.resolve("run").toString());
    env.put("PATH", pg.binDir() + ":/usr/bin:/bin");
    env.put("PG_CONFIG", pg.tool("pg_config").toString());
    env.put("PG_REGRESS_SOCK_DIR", socketDir(host).toString());
    env.put("PGHOST", socketDir(host).toString());
    return env;
  }

  /** Waits until each named node's reported state is the given one and is its goal state too. */
  private static void awaitStates(Map<String, String> states) {
    Waits.until(
        "pg_auto_failover states " + states,
        START_TIMEOUT,
        () -> {
          for (Map.Entry<String, String> e : states.entrySet()) {
            if (!monitorQuery(
                "SELECT reportedstate = '"
                    + e.getValue()
                    + "' AND goalstate = reportedstate FROM pgautofailover.node WHERE nodename = '"
                    + e.getKey()
                    + "'")) {
              return false;
            }
          }
          return true;
        });
  }

  private static boolean monitorQuery(String sql) throws SQLException {
    return holdsIn("jdbc:postgresql://" + NetnsLab.IP_CTL + ":5432/pg_auto_failover", sql);
  }

  private static void append(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardOpenOption.APPEND);
  }

  @Override
  Map<String, String> versions() {
    return Map.of("pg_auto_failover", versionOf(List.of("pg_autoctl", "version")));
  }
}
