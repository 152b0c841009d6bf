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
    Path token = dir.resolve("token");
    Files.writeString(token, "t0k3n-t0k3n-t0k3n-t0k3n-t0k3n-t0k3n\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    String detection =
        detection(", agent: {url: 'http://10.0.0.1:8009', tokenFile: " + token + "}");
    assertEquals(
        "a crashed primary is confirmed 1000–1250 ms after it goes, one that stops answering after"
            + " at least 2000 ms",
        detection);
    assertTrue(
        flat(Files.readString(README)).contains("`" + detection + "`"),
        "README's Detection paragraph quotes config check's words for the defaults with agents");
  }

  /**
   * What {@code config check} says of detection for the defaults, each node ending in {@code more}.
   */
  private String detection(String more) throws Exception {
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
    return out.toString().strip().replaceFirst("^config ok: [^;]*; ", "");
  }

  /** The README wraps lines: compare with runs of white space made one space. */
  static String flat(String text) {
    return text.replaceAll("\\s+", " ");
  }
}
