package io.pgfailover.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The checks that come before any AWS call; reading a real stack is covered by StackOnEmulatorIT.
 */
class ConfigFromStackTest {
  private final StringWriter err = new StringWriter();

  private int run(String... args) {
    CommandLine cl = new CommandLine(new ConfigFromStack());
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter(), true));
    return cl.execute(args);
  }

  @Test
  void refusesToOverwriteAnExistingFileWithoutForce(@TempDir Path dir) throws Exception {
    Path out = Files.writeString(dir.resolve("controller.yaml"), "cluster: keep-me\n");
    // The endpoint is never contacted: the refusal comes first.
    assertEquals(
        ExitCodes.REFUSED,
        run(
            "--stack",
            "s",
            "--region",
            "us-east-1",
            "--endpoint",
            "http://127.0.0.1:9",
            "--out",
            out.toString()));
    assertEquals("cluster: keep-me\n", Files.readString(out));
    assertTrue(
        err.toString().contains("refusing to overwrite " + out + ": pass --force"), err::toString);
  }

  @Test
  void rejectsAnUnknownFencingMode() {
    assertEquals(
        ExitCodes.USAGE, run("--stack", "s", "--region", "us-east-1", "--fencing", "shoot"));
    assertTrue(
        err.toString().contains("--fencing shoot is not known: use none or stop-instance"),
        err::toString);
  }

  @Test
  void passwordSourcesAreMutuallyExclusiveAndTheStackIsRequired() {
    assertEquals(2, run("--stack", "s", "--password-env", "X", "--pgpass"));
    assertEquals(2, run("--region", "us-east-1"));
    assertTrue(err.toString().contains("Missing required option: '--stack=NAME'"), err::toString);
  }

  @Test
  void anUnreachableEndpointIsAFailureThatNamesTheFix() {
    // Port 9 on loopback refuses at once (and where no credentials are configured, that fails
    // first: same path).
    assertEquals(
        ExitCodes.FAILED,
        run("--stack", "s", "--region", "us-east-1", "--endpoint", "http://127.0.0.1:9"));
    assertTrue(err.toString().contains("cannot reach CloudFormation"), err::toString);
  }
}
