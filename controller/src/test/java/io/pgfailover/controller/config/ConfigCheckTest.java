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
                "     host: h, user: u, password: {file: " + password + "}}",
                "  - {name: pg-b, instanceId: i-0123456789abcdef1, eniId: eni-0123456789abcdef1,",
                "     host: h, user: u, password: {file: " + password + "}}",
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
    String detection = out.toString().strip().replaceFirst("^config ok: [^;]*; ", "");
    assertEquals(
        "a crashed primary is confirmed 2000–3000 ms after it goes, one that stops answering after"
            + " at least 5000 ms",
        detection);
    assertTrue(
        flat(Files.readString(README)).contains("`" + detection + "`"),
        "README's Detection paragraph quotes config check's words for the defaults");
  }

  /** The README wraps lines: compare with runs of white space made one space. */
  static String flat(String text) {
    return text.replaceAll("\\s+", " ");
  }
}
