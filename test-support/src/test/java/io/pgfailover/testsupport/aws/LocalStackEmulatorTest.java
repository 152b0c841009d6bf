package io.pgfailover.testsupport.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LocalStackEmulatorTest {
  private static final Path RECIPE =
      Path.of(System.getProperty("user.dir")).getParent().resolve("emulators/localstack");

  @Test
  void theImageTagIsTheVersionTheRecipeInstalls() throws IOException {
    List<String> pinned =
        Files.readAllLines(RECIPE.resolve("requirements.lock")).stream()
            .filter(l -> l.startsWith("localstack-core=="))
            .map(l -> l.substring("localstack-core==".length()).trim())
            .toList();
    assertEquals(List.of(LocalStackEmulator.VERSION), pinned);
    assertEquals("pgfailover/localstack:" + pinned.get(0), LocalStackEmulator.DEFAULT_IMAGE);
  }

  @Test
  void namesEveryMissingTestcontainersSettingAtOnce() {
    List<String> missing = LocalStackEmulator.missingTestcontainersSettings(Map.of(), true);

    assertEquals(3, missing.size(), missing::toString);
    assertTrue(missing.get(0).startsWith("TESTCONTAINERS_RYUK_DISABLED=true ("), missing.get(0));
    assertTrue(missing.get(1).startsWith("TESTCONTAINERS_CHECKS_DISABLE=true ("), missing.get(1));
    assertTrue(
        missing.get(2).startsWith("TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 ("), missing.get(2));
  }

  @Test
  void theHostOverrideMattersOnlyInsideAContainer() {
    Map<String, String> env =
        Map.of("TESTCONTAINERS_RYUK_DISABLED", "true", "TESTCONTAINERS_CHECKS_DISABLE", "TRUE");

    assertEquals(List.of(), LocalStackEmulator.missingTestcontainersSettings(env, false));
    assertEquals(1, LocalStackEmulator.missingTestcontainersSettings(env, true).size());
  }
}
