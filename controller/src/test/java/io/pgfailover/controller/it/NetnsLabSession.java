package io.pgfailover.controller.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgfailover.testsupport.lab.NetnsLab;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The netns lab for one test class: the machine's lab lock, {@code scripts/netns.sh up} (namespaces
 * and moto), and scenario programs of test-support run as their own processes inside pgfo-cli (a
 * JVM cannot move its threads between namespaces), each printing its facts as its last line. Needs
 * root and network namespaces: {@link #open} skips the class otherwise.
 */
final class NetnsLabSession implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String LOCK = "/run/pgfo-netns.lock";

  private final Path repo;
  private final Process lockHolder;

  private NetnsLabSession(Path repo, Process lockHolder) {
    this.repo = repo;
    this.lockHolder = lockHolder;
  }

  /** Takes the lab lock and brings the lab up; skips the calling class where it cannot run. */
  static NetnsLabSession open() throws Exception {
    Path repo = Path.of("").toAbsolutePath();
    while (!Files.exists(repo.resolve("scripts/netns.sh"))) {
      repo = repo.getParent();
      assumeTrue(repo != null, "scripts/netns.sh not found above the working directory");
    }
    assumeTrue(isRoot(), "the netns lab needs root (it creates network namespaces); skipped");
    assumeTrue(
        run(repo, List.of("scripts/netns.sh", "check"), 30).exitCode() == 0,
        "network namespaces are not available here (ip netns add failed); skipped");
    // One netns lab at a time on this machine (bench/failover.sh takes the same lock): the names
    // are fixed.
    Process lockHolder =
        new ProcessBuilder("flock", "-w", "1800", LOCK, "sh", "-c", "echo locked; exec cat")
            .redirectErrorStream(true)
            .start();
    String first =
        new BufferedReader(
                new InputStreamReader(lockHolder.getInputStream(), StandardCharsets.UTF_8))
            .readLine();
    assertEquals("locked", first, "lock " + LOCK);
    NetnsLabSession session = new NetnsLabSession(repo, lockHolder);
    Result up = run(repo, List.of("scripts/netns.sh", "up"), 180);
    if (up.exitCode() != 0) {
      session.close();
    }
    assertEquals(0, up.exitCode(), "scripts/netns.sh up:\n" + up.output());
    return session;
  }

  /**
   * Runs {@code io.pgfailover.testsupport.lab.PROGRAM SCENARIO OUT JAR [MORE...]} in pgfo-cli and
   * returns the facts it printed as its last line.
   */
  JsonNode scenario(String program, String name, int timeoutSeconds, String... more)
      throws Exception {
    Path out = repo.resolve("controller/target/netns-" + program.toLowerCase());
    Path jar = repo.resolve("controller/target/failoverctl.jar");
    assertTrue(Files.exists(jar), jar + " (built by the package phase) is missing");
    List<String> args = new ArrayList<>(List.of(name, out.toString(), jar.toString()));
    args.addAll(List.of(more));
    Result r =
        run(
            repo,
            NetnsLab.javaOn(NetnsLab.CLIENT, "io.pgfailover.testsupport.lab." + program, args),
            timeoutSeconds);
    assertEquals(0, r.exitCode(), "scenario " + name + " output:\n" + r.tail());
    String[] lines = r.output().strip().split("\n");
    return JSON.readTree(lines[lines.length - 1]);
  }

  /** A JSON array's items as text. */
  static List<String> texts(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.elements().forEachRemaining(n -> out.add(n.asText()));
    return out;
  }

  /** The distinct values of an object's fields (e.g. every route table's target), in order. */
  static List<String> distinct(JsonNode object) {
    return texts(object).stream().distinct().toList();
  }

  @Override
  public void close() throws Exception {
    run(repo, List.of("scripts/netns.sh", "down"), 60);
    lockHolder.getOutputStream().close(); // cat ends, flock releases the lock
    lockHolder.waitFor(30, TimeUnit.SECONDS);
  }

  private record Result(int exitCode, String output) {
    String tail() {
      String[] lines = output.split("\n");
      return String.join(
          "\n", List.of(lines).subList(Math.max(0, lines.length - 40), lines.length));
    }
  }

  private static Result run(Path repo, List<String> cmd, int timeoutSeconds)
      throws IOException, InterruptedException {
    Path log = Files.createTempFile("pgfo-netns-", ".log");
    try {
      Process p =
          new ProcessBuilder(cmd)
              .directory(repo.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        return new Result(-1, "timed out after " + timeoutSeconds + " s\n" + Files.readString(log));
      }
      return new Result(p.exitValue(), Files.readString(log));
    } finally {
      Files.deleteIfExists(log);
    }
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }
}
