package io.pgfailover.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd unit as shipped (scripts/systemd/pgfailover.service; the stack embeds the same text,
 * see CloudFormationPolicyTest): a crash is always restarted, a bad config never, and the service
 * runs hardened. {@code scripts/test.sh} also runs {@code systemd-analyze verify} on it.
 */
class SystemdUnitTest {
  private static final Path UNIT =
      Path.of(System.getProperty("user.dir"))
          .getParent()
          .resolve("scripts/systemd/pgfailover.service");

  private static final Path AGENT_UNIT = UNIT.resolveSibling("pgfailover-agent.service");

  @TempDir Path dir;

  /** Runs out of heap: started with the unit's Java options by the test below. */
  public static final class RunsOutOfMemory {
    public static void main(String[] args) {
      List<long[]> hoard = new ArrayList<>();
      while (true) {
        hoard.add(new long[1024 * 1024]);
      }
    }
  }

  @Test
  void anOutOfMemoryErrorUnderTheUnitsJavaOptionsIsACrashSystemdRestarts() throws Exception {
    Map<String, List<String>> unit = read();
    assertEquals(List.of("always"), unit.get("Restart"));
    List<String> execStart = Arrays.asList(unit.get("ExecStart").get(0).split("\\s+"));
    assertEquals("/usr/bin/java", execStart.get(0), "ExecStart runs java");
    List<String> javaOptions = execStart.subList(1, execStart.indexOf("-jar"));

    List<String> command = new ArrayList<>();
    command.add(ProcessHandle.current().info().command().orElseThrow());
    command.addAll(javaOptions);
    command.add("-Xmx16m");
    command.add("-cp");
    command.add(
        Path.of(RunsOutOfMemory.class.getProtectionDomain().getCodeSource().getLocation().toURI())
            .toString());
    command.add(RunsOutOfMemory.class.getName());
    // The working directory takes the JVM's crash report (hs_err_pid*.log), as the unit's does.
    Process p =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("jvm.log").toFile())
            .start();
    assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the JVM ends once the heap is full");
    int status = p.exitValue();
    String output = Files.readString(dir.resolve("jvm.log"));
    assertTrue(output.contains("OutOfMemoryError"), output);
    assertFalse(
        unit.get("RestartPreventExitStatus").stream()
            .flatMap(v -> Arrays.stream(v.split("\\s+")))
            .anyMatch(v -> v.equals(String.valueOf(status))),
        "exit status "
            + status
            + " of "
            + javaOptions
            + " is one systemd never restarts: "
            + unit.get("RestartPreventExitStatus"));
    assertTrue(status != 0, "an out-of-memory exit is not a success");
    assertEquals(
        List.of("3"),
        unit.get("RestartPreventExitStatus"),
        "only a bad config (exit 3) stays down");
  }

  @Test
  void theServiceRunsHardenedWithItsFilesOwnerOnly() throws IOException {
    Map<String, List<String>> unit = read();
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("UMask", "0077");
    expected.put("NoNewPrivileges", "yes");
    expected.put("ProtectSystem", "strict");
    expected.put("StateDirectory", "pgfailover");
    expected.put("WorkingDirectory", "/var/lib/pgfailover");
    expected.put("PrivateDevices", "yes");
    expected.put("ProtectKernelTunables", "yes");
    expected.put("ProtectKernelModules", "yes");
    expected.put("ProtectControlGroups", "yes");
    expected.put("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX");
    expected.put("RestrictNamespaces", "yes");
    expected.put("LockPersonality", "yes");
    expected.put("SystemCallFilter", "@system-service");
    expected.forEach((key, value) -> assertEquals(List.of(value), unit.get(key), key));
    // The JIT compiler writes code it then runs: a unit that forbids W+X memory stops the JVM.
    assertFalse(unit.containsKey("MemoryDenyWriteExecute"));
    // The default event log lives in the one directory ProtectSystem=strict leaves writable.
    assertTrue(
        io.pgfailover.controller.config.EventLogConfig.DEFAULT_PATH.startsWith(
            "/var/lib/" + unit.get("StateDirectory").get(0)));
  }

  /**
   * The node agent's unit: restarted as the controller's (the same Java options, so the test above
   * covers it), root with only the capabilities it uses, its history in its state directory.
   */
  @Test
  void theAgentsUnitRestartsLikeTheControllersAndRunsAsRootWithFewCapabilities()
      throws IOException {
    Map<String, List<String>> controller = read();
    Map<String, List<String>> agent = read(AGENT_UNIT);
    List<String> controllerStart = Arrays.asList(controller.get("ExecStart").get(0).split("\\s+"));
    List<String> agentStart = Arrays.asList(agent.get("ExecStart").get(0).split("\\s+"));
    assertEquals(
        controllerStart.subList(0, controllerStart.indexOf("-jar")),
        agentStart.subList(0, agentStart.indexOf("-jar")));
    assertEquals("agent", agentStart.get(agentStart.size() - 1));
    for (String key : List.of("Restart", "RestartPreventExitStatus", "UMask", "NoNewPrivileges")) {
      assertEquals(controller.get(key), agent.get(key), key);
    }
    assertFalse(agent.containsKey("User"), "root: systemctl, setpriv, chown");
    assertFalse(agent.containsKey("KillMode"), "its tools end with it");
    assertEquals(
        List.of("CAP_SETUID CAP_SETGID CAP_CHOWN CAP_FOWNER CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH"),
        agent.get("CapabilityBoundingSet"));
    assertTrue(
        io.pgfailover.controller.config.AgentConfig.DEFAULT_EVENT_LOG.startsWith(
            "/var/lib/" + agent.get("StateDirectory").get(0)));
    assertEquals(
        List.of("/var/lib/" + agent.get("StateDirectory").get(0)), agent.get("WorkingDirectory"));
  }

  private static Map<String, List<String>> read() throws IOException {
    return read(UNIT);
  }

  /** Every key=value of a unit, comments left out. */
  private static Map<String, List<String>> read(Path unit) throws IOException {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(unit)) {
      String l = line.strip();
      int eq = l.indexOf('=');
      if (l.isEmpty() || l.startsWith("#") || l.startsWith("[") || eq < 0) {
        continue;
      }
      out.computeIfAbsent(l.substring(0, eq), k -> new ArrayList<>()).add(l.substring(eq + 1));
    }
    return out;
  }
}
