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

  /** Every key=value of the unit, comments left out. */
  private static Map<String, List<String>> read() throws IOException {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(UNIT)) {
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
