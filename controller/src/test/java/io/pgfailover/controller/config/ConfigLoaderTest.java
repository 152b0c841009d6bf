package io.pgfailover.controller.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.cli.Failoverctl;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class ConfigLoaderTest {
  /** The example config takes the password from this variable. */
  static final Map<String, String> EXAMPLE_ENV = Map.of("PGFAILOVER_PG_PASSWORD", "secret");

  /** No environment sets this. */
  static final String UNSET_VARIABLE = "PGFAILOVER_TEST_SURELY_UNSET_VARIABLE";

  @TempDir static Path dir;

  @Test
  void theExampleConfigLoads() throws Exception {
    Path example =
        Path.of(System.getProperty("user.dir"))
            .getParent()
            .resolve("config/controller.example.yaml");
    ControllerConfig c =
        ConfigLoader.parse(Files.readString(example), example.toString(), EXAMPLE_ENV::get);
    assertEquals("orders-db", c.cluster());
    assertEquals(2, c.nodes().size());
    assertEquals(Duration.ofSeconds(1), c.probe().interval());
    assertEquals(3, c.probe().failureThreshold());
    assertEquals(16L * 1024 * 1024, c.failover().maxLagBytes());
    assertEquals(FailoverPolicy.Fencing.NONE, c.failover().fencing());
    assertEquals("127.0.0.1", c.admin().listen().getHostString());
    assertEquals(
        new Detection(Duration.ofSeconds(2), Duration.ofMillis(2250), Duration.ofSeconds(5)),
        Detection.of(c));
    assertEquals(EventLogConfig.of(EventLogConfig.DEFAULT_PATH), c.eventLog());
  }

  @Test
  void everyErrorIsReportedWithItsLineAndFix() {
    String yaml =
        String.join(
            "\n",
            "cluster: Orders DB", // 1 bad name
            "aws: {region: eu-west-1}", // 2
            "virtualIp: 10.0.0.300/24", // 3 bad CIDR
            "routeTables: [rtb-0123456789abcdef0, rtb-xyz]", // 4 bad id
            "nodes:", // 5
            "  - name: pg-a", // 6
            "    instanceId: i-0123456789abcdef0", // 7
            "    eniId: eni-0123456789abcdef0", // 8
            "    host: 10.0.1.10", // 9
            "    port: 99999", // 10 out of range
            "    user: pgfailover", // 11
            "  - name: pg-b", // 12 missing instanceId, eniId
            "    host: 10.0.2.10", // 13
            "    user: pgfailover", // 14
            "    pasword: {env: X}", // 15 unknown key (typo)
            "probe:", // 16
            "  interval: 1x", // 17 bad duration
            "  timeout: 2s", // 18
            "failover: {fencing: shoot}", // 19 bad enum
            "");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "bad.yaml"));
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertContains(lines, "bad.yaml:1: cluster: \"Orders DB\" is not a cluster name");
    assertContains(
        lines,
        "bad.yaml:3: virtualIp: \"10.0.0.300/24\" is not an IPv4 /32 CIDR. Fix: write one address"
            + " with /32");
    assertContains(
        lines,
        "bad.yaml:4: routeTables[1]: \"rtb-xyz\" is not a route table id. Fix: write it like"
            + " rtb-0123456789abcdef0");
    assertContains(
        lines,
        "bad.yaml:10: nodes[0].port: 99999 is out of range. Fix: use a whole number from 1 to"
            + " 65535");
    assertContains(
        lines,
        "bad.yaml:12: nodes[1].instanceId: is required but missing. Fix: add instanceId:"
            + " i-0123456789abcdef0");
    assertContains(lines, "bad.yaml:12: nodes[1].eniId: is required but missing");
    assertContains(
        lines, "bad.yaml:15: nodes[1].pasword: unknown key. Fix: did you mean password?");
    assertContains(
        lines,
        "bad.yaml:17: probe.interval: \"1x\" is not a duration. Fix: write a number and a unit,"
            + " e.g. 1s, 500ms, 2m");
    assertContains(
        lines, "bad.yaml:19: failover.fencing: \"shoot\" is not one of [none, stop-instance]");
    assertContains(
        lines, "bad.yaml:18: probe.timeout: 2000 ms is longer than probe.interval (1000 ms)");
    assertEquals(10, lines.size(), String.join("\n", lines));
  }

  @Test
  void crossFieldRulesAreChecked() {
    String yaml = minimal() + "probe: {interval: 1s, timeout: 2s}\n";
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "x.yaml"));
    assertContains(
        e.errors().stream().map(ConfigError::toString).toList(),
        "x.yaml:11: probe.timeout: 2000 ms is longer than probe.interval (1000 ms). Fix: make"
            + " probe.timeout at most probe.interval");
  }

  @Test
  void missingTopLevelSectionsAreNamed() {
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse("cluster: x\n", "m.yaml"));
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertContains(lines, "aws: is required but missing");
    assertContains(lines, "virtualIp: is required but missing");
    assertContains(lines, "routeTables: is required but missing");
    assertContains(lines, "nodes: is required but missing");
  }

  @Test
  void aPasswordInTheJdbcBlockIsRefused() {
    String yaml = minimal().replace("user: u}", "user: u, jdbc: {password: hunter2}}");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "p.yaml"));
    assertContains(
        e.errors().stream().map(ConfigError::toString).toList(),
        "a password must not be written in the config");
  }

  @Test
  void yamlSyntaxErrorsCarryTheirLine() {
    ConfigException e =
        assertThrows(
            ConfigException.class, () -> ConfigLoader.parse("cluster: x\naws: [\n", "s.yaml"));
    assertTrue(e.errors().get(0).line() > 0, e.getMessage());
    assertContains(List.of(e.getMessage()), "not valid YAML");
  }

  @Test
  void durationsAndSizesParse() throws Exception {
    ControllerConfig c =
        ConfigLoader.parse(
            minimal()
                + "probe: {interval: 500ms, timeout: 400ms, routeRefresh: 2m}\n"
                + "failover: {maxLagBytes: 512kB, witnessWindow: 3s}\n",
            "ok.yaml");
    assertEquals(Duration.ofMillis(500), c.probe().interval());
    assertEquals(Duration.ofMinutes(2), c.probe().routeRefresh());
    assertEquals(512L * 1024, c.failover().maxLagBytes());
  }

  @Test
  void theExamplesCommentedPairBlocksLoadWhenUncommented() throws Exception {
    Path example =
        Path.of(System.getProperty("user.dir"))
            .getParent()
            .resolve("config/controller.example.yaml");
    String text = Files.readString(example);
    String pair =
        text.substring(text.indexOf("# lease:"))
            .lines()
            .filter(
                l ->
                    l.startsWith("#  ")
                        || List.of("# lease:", "# nat:", "# notify:", "# cloudwatch:").contains(l))
            .map(l -> l.substring(2))
            .reduce("", (x, y) -> x + y + "\n");
    ControllerConfig c = ConfigLoader.parse(text + pair, "example+pair");
    assertEquals("orders-db-lease", c.lease().orElseThrow().table());
    assertEquals(List.of("rtb-0123456789abcdef1"), c.nat().orElseThrow().peerRouteTables());
    assertEquals(
        Optional.of(List.of("/usr/local/bin/page-oncall", "--team", "db")),
        c.notifications().command());
    assertEquals(
        Optional.of("arn:aws:sns:eu-west-1:123456789012:pgfailover-prod"),
        c.notifications().snsTopicArn());
    assertEquals(Optional.of("PgFailover"), c.cloudWatch().map(CloudWatchConfig::namespace));
  }

  @Test
  void withoutALeaseBlockTheControllerRunsAlone() throws Exception {
    ControllerConfig c = ConfigLoader.parse(minimal(), "ok.yaml");
    assertTrue(c.lease().isEmpty());
    assertTrue(c.nat().isEmpty());
  }

  @Test
  void leaseAndNatBlocksLoadWithTheirDefaults() throws Exception {
    ControllerConfig c =
        ConfigLoader.parse(
            minimal()
                + String.join(
                    "\n",
                    "lease: {table: orders-db-lease, controller: nat-a}",
                    "nat:",
                    "  instanceId: i-0123456789abcdef0",
                    "  peer: {instanceId: i-0123456789abcdef1, routeTables:"
                        + " [rtb-0123456789abcdef1], healthCheck: '10.0.2.5:22'}",
                    ""),
            "ok.yaml");
    LeaseConfig l = c.lease().orElseThrow();
    assertEquals("orders-db-lease", l.table());
    assertEquals("nat-a", l.controller());
    assertEquals(Duration.ofSeconds(10), l.duration());
    assertEquals(Duration.ofSeconds(2), l.renewInterval());
    assertEquals(Duration.ofSeconds(1), l.callTimeout());
    assertEquals(Duration.ofSeconds(8), l.actingWindow());
    NatConfig n = c.nat().orElseThrow();
    assertEquals("i-0123456789abcdef1", n.peerInstanceId());
    assertEquals(List.of("rtb-0123456789abcdef1"), n.peerRouteTables());
    assertEquals(22, n.peerHealthCheck().orElseThrow().getPort());
    assertEquals(3, n.failureThreshold());
    assertTrue(n.failback());
  }

  @Test
  void leaseAndNatErrorsNameTheFieldAndTheFix() {
    String yaml =
        minimal()
            + String.join(
                "\n",
                "lease:", // 11
                "  table: x", // 12 too short
                "  duration: 4s", // 13 too short for the rest
                "  renewInterval: 500ms", // 14 shorter than probe.interval
                "  callTimeout: 1s", // 15
                "  safetyMargin: 500ms", // 16 shorter than callTimeout
                "  ttl: 3s", // 17 unknown
                "nat:", // 18
                "  instanceId: i-0123456789abcdef0", // 19
                "  peer: {instanceId: i-0123456789abcdef0, routeTables: [rtb-nope]}", // 20 self as
                // peer, bad
                // id
                "");
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "l.yaml"));
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertContains(lines, "l.yaml:12: lease.table: \"x\" is not a DynamoDB table name");
    assertContains(
        lines,
        "l.yaml:14: lease.renewInterval: 500 ms is shorter than probe.interval (1000 ms). Fix: make"
            + " lease.renewInterval at least probe.interval");
    assertContains(
        lines,
        "l.yaml:16: lease.safetyMargin: 500 ms is shorter than lease.callTimeout (1000 ms). Fix:"
            + " make lease.safetyMargin at least lease.callTimeout");
    assertContains(
        lines,
        "l.yaml:13: lease.duration: 4000 ms is not longer than renewInterval + probe.interval + 2 ×"
            + " callTimeout + safetyMargin (4000 ms)");
    assertContains(lines, "l.yaml:17: lease.ttl: unknown key");
    assertContains(
        lines, "l.yaml:20: nat.peer.routeTables[0]: \"rtb-nope\" is not a route table id");
    assertContains(
        lines,
        "l.yaml:20: nat.peer.instanceId: is this controller's own instance (nat.instanceId). Fix:"
            + " name the other AZ's NAT instance");
    assertEquals(7, lines.size(), String.join("\n", lines));
  }

  @Test
  void theLeaseDurationRuleCountsEveryTerm() {
    String ok =
        minimal()
            + "lease: {table: tbl, duration: 4001ms, renewInterval: 1s, callTimeout: 500ms,"
            + " safetyMargin: 1s}\n";
    String bad =
        minimal()
            + "lease: {table: tbl, duration: 4s, renewInterval: 1s, callTimeout: 500ms,"
            + " safetyMargin: 1s}\n";
    assertEquals(
        Duration.ofMillis(4001), assertDoesNotThrowConfig(ok).lease().orElseThrow().duration());
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(bad, "d.yaml"));
    assertContains(
        e.errors().stream().map(ConfigError::toString).toList(),
        "d.yaml:11: lease.duration: 4000 ms is not longer than renewInterval + probe.interval + 2 ×"
            + " callTimeout + safetyMargin (4000 ms). Fix: make lease.duration longer than 4000 ms,"
            + " or shorten lease.renewInterval");
  }

  @Test
  void theEventLogIsAPathWithDefaultRotationOrABlock() throws Exception {
    String base = minimal().replace("eventLog: /tmp/e.jsonl\n", "");
    EventLogConfig plain = assertDoesNotThrowConfig(base + "eventLog: /var/x/e.jsonl\n").eventLog();
    assertEquals(
        new EventLogConfig(
            Path.of("/var/x/e.jsonl"),
            EventLogConfig.DEFAULT_MAX_FILE_BYTES,
            EventLogConfig.DEFAULT_KEEP_FILES),
        plain);
    assertEquals(Path.of("/var/x/e.jsonl.state"), plain.stateFile());
    assertEquals(Path.of("/var/x/e.jsonl.lock"), plain.lockFile());
    assertEquals(Path.of("/var/x/e.jsonl.2"), plain.rotated(2));
    assertEquals(
        EventLogConfig.of(EventLogConfig.DEFAULT_PATH), assertDoesNotThrowConfig(base).eventLog());
    assertEquals(
        new EventLogConfig(Path.of("/var/x/e.jsonl"), 4L * 1024 * 1024, 10),
        assertDoesNotThrowConfig(
                base + "eventLog: {path: /var/x/e.jsonl, maxFileSize: 4MB, keepFiles: 10}\n")
            .eventLog());

    String bad =
        base
            + "eventLog:\n"
            + "  path: /var/x/e.jsonl\n"
            + "  maxFileSize: 10kB\n"
            + "  keepFiles: 0\n"
            + "  keepFile: 3\n";
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(bad, "e.yaml"));
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertContains(
        lines,
        "e.yaml:12: eventLog.maxFileSize: 10240 bytes is out of range. Fix: use a size from 1MB to"
            + " 1GB, e.g. 16MB");
    assertContains(
        lines,
        "e.yaml:13: eventLog.keepFiles: 0 is out of range. Fix: use a whole number from 1 to 100");
    assertContains(
        lines, "e.yaml:14: eventLog.keepFile: unknown key. Fix: did you mean keepFiles?");
  }

  /**
   * A config file {@code config check} must refuse with exit 3 and this exact error (file, line,
   * field, problem, fix), never exit 1 or a stack trace.
   */
  record Refused(String name, String yaml, String error) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Refused> refused() throws IOException {
    Path readable = secret("readable-password", "rw-r--r--");
    Path token = secret("group-token", "rw-r-----");
    String bomb =
        String.join(
            "\n",
            "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]", // 11
            "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]", // 12: 9 aliases
            "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]", // 13: 18
            "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]", // 14: the 21st, refused here
            "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
            "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
            "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]", // 54 aliases: past SnakeYAML's own 50
            "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]", // 9^8 lols, were it expanded
            "");
    return Stream.of(
        new Refused(
            "billion laughs",
            minimal() + bomb,
            "FILE:14: (yaml): has more than 20 aliases to lists or mappings. Fix: write the values"
                + " out: a controller config needs no more than a few aliases"),
        new Refused(
            "nesting too deep",
            // Deeper than SnakeYAML's own limit (50), which it reports without a line.
            minimal() + "probe: " + "[".repeat(60) + "]".repeat(60) + "\n",
            "FILE:11: (yaml): nests lists and mappings deeper than 10 levels. Fix: a controller"
                + " config nests at most 4 levels: check the indentation and brackets"),
        new Refused(
            "a list as a key",
            minimal().replace("host: h, user: u}", "host: h, user: u, jdbc: {[a, b]: c}}"),
            "FILE:6: nodes[0].jdbc: a key must be a plain word, not a list or mapping. Fix: write"
                + " key: value"),
        new Refused(
            "a size that overflows",
            minimal() + "failover: {maxLagBytes: 9999999999GB}\n",
            "FILE:11: failover.maxLagBytes: \"9999999999GB\" is too large (the limit is 8 EiB)."
                + " Fix: write a smaller size, e.g. 16MB"),
        new Refused(
            "a duration that overflows",
            minimal() + "probe: {routeRefresh: 40000000000000000s}\n",
            "FILE:11: probe.routeRefresh: \"40000000000000000s\" is longer than 24h. Fix: write a"
                + " duration of at most 24h, e.g. 30s"),
        new Refused(
            "a whole number with too many digits",
            minimal() + "probe: {failureThreshold: 99999999999999999999}\n",
            "FILE:11: probe.failureThreshold: 99999999999999999999 is out of range. Fix: use a"
                + " whole number from 1 to 100"),
        new Refused(
            "a file over 1 MiB",
            // 1024 lines of 1024 bytes fill the limit exactly: reading stops on line 1025.
            ("#" + "x".repeat(1022) + "\n").repeat(1100),
            "FILE:1025: (file): is 1126400 bytes, over the limit of 1 MiB (1048576 bytes) reached"
                + " on this line. Fix: a config is a few kB: check that this is the"
                + " right file"),
        new Refused(
            "a password file others may read",
            minimal()
                .replace(
                    "host: h, user: u}", "host: h, user: u, password: {file: " + readable + "}}"),
            "FILE:6: nodes[0].password.file: "
                + readable
                + " is accessible by group or others (rw-r--r--). Fix: chmod 600 "
                + readable),
        new Refused(
            "an admin token file the group may read",
            minimal()
                .replace(
                    "listen: '127.0.0.1:0'}", "listen: '127.0.0.1:0', tokenFile: " + token + "}"),
            "FILE:8: admin.tokenFile: "
                + token
                + " is accessible by group or others (rw-r-----). Fix: chmod 600 "
                + token),
        new Refused(
            "an unset password variable",
            minimal()
                .replace(
                    "host: h, user: u}",
                    "host: h, user: u, password: {env: " + UNSET_VARIABLE + "}}"),
            "FILE:6: nodes[0].password.env: "
                + UNSET_VARIABLE
                + " is not set (or empty) in this environment. Fix: set it where the controller"
                + " runs (the systemd unit reads /etc/pgfailover/environment), or use password:"
                + " {file: /etc/pgfailover/pg-password}"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void hostileOrBrokenInputIsAConfigErrorWithItsLine(Refused c) throws IOException {
    Path file = Files.writeString(dir.resolve(c.name().replace(' ', '-') + ".yaml"), c.yaml());
    ConfigException e = assertThrows(ConfigException.class, () -> ConfigLoader.load(file));
    assertEquals(
        List.of(c.error().replace("FILE", file.toString())),
        e.errors().stream().map(ConfigError::toString).toList());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refused")
  void configCheckExitsThreeWithTheLineNeverOneOrAStackTrace(Refused c) throws IOException {
    Path file = Files.writeString(dir.resolve(c.name().replace(' ', '-') + ".yaml"), c.yaml());
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code =
        Failoverctl.execute(
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            "config",
            "check",
            "-c",
            file.toString());
    assertEquals(ExitCodes.CONFIG, code, err.toString());
    assertTrue(err.toString().contains(c.error().replace("FILE", file.toString())), err.toString());
    assertFalse(err.toString().contains("\tat "), err.toString());
    assertEquals("", out.toString());
  }

  @Test
  void secretsProblemsAndBadNumbersAreReportedTogether() throws IOException {
    Path readable = secret("together-password", "rw-r--r--");
    String yaml =
        minimal()
                .replace(
                    "host: h, user: u}",
                    "host: h, user: u, password: {env: " + UNSET_VARIABLE + "}}")
                .replace(
                    "port: 5433, user: u}",
                    "port: 5433, user: u, password: {file: " + readable + "}}")
            + "probe: {routeRefresh: 40000000000000000s}\n"
            + "failover: {maxLagBytes: 9999999999GB}\n";
    ConfigException e =
        assertThrows(ConfigException.class, () -> ConfigLoader.parse(yaml, "t.yaml", k -> null));
    List<String> lines = e.errors().stream().map(ConfigError::toString).toList();
    assertContains(lines, "t.yaml:6: nodes[0].password.env: " + UNSET_VARIABLE + " is not set");
    assertContains(lines, "t.yaml:7: nodes[1].password.file: " + readable + " is accessible");
    assertContains(lines, "t.yaml:11: probe.routeRefresh:");
    assertContains(lines, "t.yaml:12: failover.maxLagBytes:");
    assertEquals(4, lines.size(), String.join("\n", lines));
  }

  @Test
  void privateSecretsAndASetVariableAreAccepted() throws Exception {
    Path password = secret("private-password", "rw-------");
    Path token = secret("private-token", "rw-------");
    String yaml =
        minimal()
            .replace("host: h, user: u}", "host: h, user: u, password: {env: PGPASSWORD}}")
            .replace(
                "port: 5433, user: u}", "port: 5433, user: u, password: {file: " + password + "}}")
            .replace("listen: '127.0.0.1:0'}", "listen: '127.0.0.1:0', tokenFile: " + token + "}");
    ControllerConfig c = ConfigLoader.parse(yaml, "ok.yaml", Map.of("PGPASSWORD", "x")::get);
    assertEquals(PasswordConfig.Kind.ENV, c.nodes().get(0).password().kind());
    assertEquals(password.toString(), c.nodes().get(1).password().value());
  }

  @Test
  void aConfigForAnotherHostIsCheckedWithoutThisHostsSecrets() throws Exception {
    // config from-stack checks what it writes for the instance, where the variable and files live.
    Path readable = secret("elsewhere-password", "rw-r--r--");
    String yaml =
        minimal()
            .replace(
                "host: h, user: u}", "host: h, user: u, password: {env: " + UNSET_VARIABLE + "}}")
            .replace(
                "port: 5433, user: u}", "port: 5433, user: u, password: {file: " + readable + "}}");
    ControllerConfig c = ConfigLoader.parse(yaml, "elsewhere.yaml");
    assertEquals(UNSET_VARIABLE, c.nodes().get(0).password().value());
  }

  private static Path secret(String name, String mode) throws IOException {
    Path f = dir.resolve(name);
    Files.writeString(f, "secret-0123456789abcdef\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
    return f;
  }

  private static ControllerConfig assertDoesNotThrowConfig(String yaml) {
    try {
      return ConfigLoader.parse(yaml, "ok.yaml");
    } catch (ConfigException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  static String minimal() {
    return String.join(
        "\n",
        "cluster: c",
        "aws: {region: us-east-1, endpoint: 'http://127.0.0.1:5000'}",
        "virtualIp: 172.31.255.10/32",
        "routeTables: [rtb-0123456789abcdef0]",
        "nodes:",
        "  - {name: a, instanceId: i-0123456789abcdef0, eniId: eni-0123456789abcdef0, host: h,"
            + " user: u}",
        "  - {name: b, instanceId: i-0123456789abcdef1, eniId: eni-0123456789abcdef1, host: h,"
            + " port: 5433, user: u}",
        "admin: {listen: '127.0.0.1:0'}",
        "eventLog: /tmp/e.jsonl",
        "",
        "");
  }

  static void assertContains(List<String> lines, String expected) {
    assertTrue(
        lines.stream().anyMatch(l -> l.contains(expected)),
        "expected an error containing:\n  "
            + expected
            + "\nbut got:\n  "
            + String.join("\n  ", lines));
  }
}
