package io.pgfailover.controller.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.cli.Failoverctl;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code config check} says of a good config, and that the README says the same. */
class ConfigCheckTest {
  static final Path README =
      Path.of(System.getProperty("user.dir")).getParent().resolve("README.md");

  @TempDir Path dir;

  @Test
  void configCheckPrintsTheDetectionTimesTheReadmeStates() throws Exception {
    String detection = detection("");
    assertEquals(
        "a crashed primary is confirmed 2000–2250 ms after it goes, one that stops answering after"
            + " at least 5000 ms",
        detection);
    assertTrue(
        flat(Files.readString(README)).contains("`" + detection + "`"),
        "README's Detection paragraph quotes config check's words for the defaults");
  }

  @Test
  void withNodeAgentsAStandbysHostThatCannotReachThePrimaryCountsAsOneMoreFailedProbe()
      throws Exception {
    String detection =
        detection(", agent: {url: 'http://10.0.0.1:8009', tokenFile: " + token() + "}");
    assertEquals(
        "a crashed primary is confirmed 1000–1250 ms after it goes, one that stops answering after"
            + " at least 2000 ms",
        detection);
    assertTrue(
        flat(Files.readString(README)).contains("`" + detection + "`"),
        "README's Detection paragraph quotes config check's words for the defaults with agents");
  }

  @Test
  void oneFailedProbeWithAStandbyHostsAgreementIsConfirmedWithACaution() throws Exception {
    String agent = ", agent: {url: 'http://10.0.0.1:8009', tokenFile: " + token() + "}";
    List<String> lines =
        check(agent, "probe: {interval: 500ms, timeout: 500ms, failureThreshold: 2}");
    assertEquals(
        List.of(
            "a crashed primary is confirmed 0–125 ms after it goes, one that stops answering after"
                + " at least 500 ms",
            "caution: probe.failureThreshold 2 with node agents confirms a primary that stops"
                + " answering on one failed probe and a standby host's agreement; on a link that"
                + " loses packets both time out together often enough to fail over a healthy"
                + " primary (README: Detection speed versus false alarms); probe.failureThreshold:"
                + " 3 needs two failed probes"),
        lines);
    assertTrue(
        flat(Files.readString(README)).contains("`" + lines.get(1) + "`"),
        "README's Detection paragraph quotes the caution");
    assertEquals(
        1,
        check("", "probe: {failureThreshold: 2}").size(),
        "without agents two failed probes and the passive witness confirm: no caution");
    assertEquals(1, check(agent, "").size(), "the defaults with agents: no caution");
  }

  private Path token() throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, "t0k3n-t0k3n-t0k3n-t0k3n-t0k3n-t0k3n\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    return token;
  }

  /**
   * What {@code config check} says of detection for the defaults, each node ending in {@code more}.
   */
  private String detection(String more) throws Exception {
    List<String> lines = check(more, "");
    assertEquals(1, lines.size(), "no caution at the defaults: " + lines);
    return lines.get(0);
  }

  /**
   * {@code config check}'s lines for the defaults, each node ending in {@code more}, plus {@code
   * topLevel} (a line of the config's own, or empty), without the "config ok: ...; " prefix.
   */
  private List<String> check(String more, String topLevel) throws Exception {
    Path password = dir.resolve("pw");
    Files.writeString(password, "secret\n");
    Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
    Path config =
        Files.writeString(
            dir.resolve("c.yaml"),
            String.join(
                "\n",
                "cluster: c",
                "aws: {region: us-east-1}",
                "virtualIp: 172.31.255.10/32",
                "routeTables: [rtb-0123456789abcdef0]",
                "nodes:",
                "  - {name: pg-a, instanceId: i-0123456789abcdef0, eniId: eni-0123456789abcdef0,",
                "     host: h, user: u, password: {file: " + password + "}" + more + "}",
                "  - {name: pg-b, instanceId: i-0123456789abcdef1, eniId: eni-0123456789abcdef1,",
                "     host: h, user: u, password: {file: " + password + "}" + more + "}",
                "eventLog: " + dir.resolve("e.jsonl"),
                topLevel,
                ""));
    StringWriter out = new StringWriter();
    int code =
        Failoverctl.execute(
            new PrintWriter(out, true),
            new PrintWriter(new StringWriter(), true),
            "config",
            "check",
            "-c",
            config.toString());
    assertEquals(ExitCodes.OK, code, out.toString());
    return List.of(out.toString().strip().replaceFirst("^config ok: [^;]*; ", "").split("\\R"));
  }

  /** The README wraps lines: compare with runs of white space made one space. */
  static String flat(String text) {
    return text.replaceAll("\\s+", " ");
  }
}
