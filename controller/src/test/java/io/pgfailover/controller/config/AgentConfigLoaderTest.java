package io.pgfailover.controller.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AgentConfigLoaderTest {

  @Test
  void theExampleLoadsWithItsDefaults() throws Exception {
    Path example =
        Path.of(System.getProperty("user.dir")).getParent().resolve("config/agent.example.yaml");
    AgentConfig c = AgentConfigLoader.load(example);
    assertEquals("pg-a", c.node());
    assertEquals("10.0.1.10:8009", c.listenText());
    assertEquals(Path.of("/etc/pgfailover/agent-token"), c.tokenFile());
    assertEquals(EventLogConfig.of(AgentConfig.DEFAULT_EVENT_LOG), c.eventLog());
    AgentConfig.Postgres pg = c.postgres();
    assertEquals(Path.of("/var/lib/pgsql/data"), pg.dataDirectory());
    assertEquals(AgentConfig.Service.SYSTEMD, pg.service());
    assertEquals("postgresql", pg.unit());
    assertEquals(Optional.empty(), pg.start());
    assertEquals(Duration.ofSeconds(60), pg.startTimeout());
    assertEquals(Path.of("/var/lib/pgsql/data.log"), pg.serverLog());
    assertEquals(
        new AgentConfig.Login(
            "pgfailover",
            new PasswordConfig(PasswordConfig.Kind.FILE, "/etc/pgfailover/pg-password")),
        pg.local());
    assertEquals(
        new AgentConfig.Replication(
            "replicator",
            Path.of("/etc/pgfailover/replication-password"),
            Path.of("/var/lib/pgsql/pgfailover-replication.pgpass")),
        c.replication());
    assertFalse(c.rejoin().reclone());
    assertEquals(Duration.ofHours(12), c.rejoin().recloneTimeout());
  }

  @Test
  void theSmallestConfigNeedsOnlyNodeListenTokenDataDirectoryAndReplicationPassword()
      throws Exception {
    AgentConfig c =
        AgentConfigLoader.parse(
            String.join(
                "\n",
                "node: pg-b",
                "listen: '[fd00::10]:8009'",
                "tokenFile: /etc/t",
                "postgres: {dataDirectory: /srv/pg/15/main, service: pg-ctl}",
                "replication: {passwordFile: /etc/r}",
                ""),
            "small.yaml");
    assertEquals(AgentConfig.Service.PG_CTL, c.postgres().service());
    assertEquals(Path.of("/usr/bin/pg_rewind"), c.postgres().tool("pg_rewind"));
    assertEquals(
        new PasswordConfig(PasswordConfig.Kind.PGPASS, ""), c.postgres().local().password());
    assertEquals(Path.of("/srv/pg/15/pgfailover-replication.pgpass"), c.replication().passfile());
  }

  @Test
  void everyErrorIsReportedWithItsLineValueAndFix() {
    String yaml =
        String.join(
            "\n",
            "node: PG A", // 1 bad name
            "listen: 0.0.0.0:8009", // 2 wildcard
            "tokenFile: agent-token", // 3 relative
            "postgres:", // 4
            "  dataDirectory: /var/lib/pgsql/data", // 5
            "  osUser: Postgres!", // 6 bad user
            "  service: docker", // 7 bad enum
            "  start: [systemctl, start, postgresql]", // 8 relative program
            "  stopTimeout: 500ms", // 9 too short
            "  local: {user: \"x y\"}", // 10 bad role
            "replication:", // 11
            "  usr: replicator", // 12 typo; passwordFile missing (the mapping starts here)
            "rejoin: {reclone: maybe}", // 13 bad boolean
            "");
    ConfigException e =
        assertThrows(ConfigException.class, () -> AgentConfigLoader.parse(yaml, "agent.yaml"));
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertContains(lines, "agent.yaml:1: node: \"PG A\" is not a node name");
    assertContains(
        lines,
        "agent.yaml:2: listen: \"0.0.0.0:8009\" listens on every interface. Fix: write this host's"
            + " private address and a port, e.g. listen: 10.0.1.10:8009");
    assertContains(
        lines,
        "agent.yaml:3: tokenFile: \"agent-token\" is not an absolute path. Fix: write the full"
            + " path, e.g. /etc/pgfailover/agent-token");
    assertContains(
        lines, "agent.yaml:6: postgres.osUser: \"Postgres!\" is not an OS user name. Fix:");
    assertContains(
        lines,
        "agent.yaml:7: postgres.service: \"docker\" is not one of [systemd, pg-ctl]. Fix: write one"
            + " of systemd, pg-ctl");
    assertContains(
        lines,
        "agent.yaml:8: postgres.start: \"systemctl\" is not an absolute path. Fix: name the"
            + " program by its full path");
    assertContains(
        lines,
        "agent.yaml:9: postgres.stopTimeout: 500 ms is shorter than 1 s. Fix: use 1s or more");
    assertContains(
        lines, "agent.yaml:10: postgres.local.user: \"x y\" is not a plain role name. Fix:");
    assertContains(
        lines,
        "agent.yaml:12: replication.passwordFile: is required but missing. Fix: add passwordFile:"
            + " /etc/pgfailover/replication-password (owner-only)");
    assertContains(lines, "agent.yaml:12: replication.usr: unknown key. Fix: did you mean user?");
    assertContains(lines, "agent.yaml:13: rejoin.reclone: \"maybe\" is not true or false");
    assertEquals(11, lines.size(), String.join("\n", lines));
  }

  @Test
  void everyWildcardSpellingIsRefusedAndNamedAddressesAreNot() {
    for (String wildcard :
        List.of("0.0.0.0:8009", "'[::]:8009'", "'*:8009'", "'[0:0:0:0:0:0:0:0]:1'")) {
      ConfigException e =
          assertThrows(
              ConfigException.class,
              () -> AgentConfigLoader.parse(minimal("listen: " + wildcard), "w.yaml"),
              wildcard);
      assertTrue(e.getMessage().contains("listens on every interface"), e.getMessage());
    }
    for (String host : List.of("10.0.1.10", "127.0.0.1", "pg-a.internal", "[fd00::10]")) {
      assertFalse(AgentConfigLoader.isWildcard(host), host);
    }
  }

  @Test
  void aMissingListenOrPortZeroIsAnError() {
    ConfigException missing =
        assertThrows(
            ConfigException.class,
            () ->
                AgentConfigLoader.parse(
                    minimal("").replace("listen: 10.0.1.10:8009\n", ""), "m.yaml"));
    assertContains(
        missing.errors().stream().map(ConfigError::toString).toList(),
        "m.yaml:1: listen: is required but missing. Fix: write this host's private address");
    ConfigException zero =
        assertThrows(
            ConfigException.class,
            () -> AgentConfigLoader.parse(minimal("listen: 10.0.1.10:0"), "z.yaml"));
    assertContains(
        zero.errors().stream().map(ConfigError::toString).toList(),
        "z.yaml:1: listen: \"10.0.1.10:0\" has no fixed port");
  }

  /** A valid config whose listen line is {@code listen} (empty: the default one). */
  private static String minimal(String listen) {
    return String.join(
        "\n",
        listen.isEmpty() ? "listen: 10.0.1.10:8009" : listen,
        "node: pg-a",
        "tokenFile: /etc/t",
        "postgres: {dataDirectory: /d/data}",
        "replication: {passwordFile: /etc/r}",
        "");
  }

  private static void assertContains(List<String> lines, String prefix) {
    assertTrue(
        lines.stream().anyMatch(l -> l.startsWith(prefix)),
        "no error starting with:\n  " + prefix + "\nin:\n  " + String.join("\n  ", lines));
  }
}
