package io.pgfailover.testsupport.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The README's client guidance is the one {@link ClientSettings} defines and the bench uses. */
class ClientSettingsTest {

  @Test
  void theReadmesTableGivesEachProfilesSettingsAsTheBenchUsesThem() throws Exception {
    String readme = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("README.md"));
    for (ClientSettings c : List.of(ClientSettings.DEFAULT, ClientSettings.FAST)) {
      String row = "| `" + c.profile() + "` (";
      assertTrue(readme.contains(row), "the README has a row for " + c.profile());
      String found = readme.substring(readme.indexOf(row));
      String line = found.substring(0, found.indexOf('\n'));
      assertTrue(line.contains("`" + c.pgjdbcUrlParameters() + "`"), line);
      assertTrue(line.contains("`" + c.libpq() + "`"), line);
      c.networkTimeout()
          .ifPresent(
              t ->
                  assertTrue(
                      line.contains("`setNetworkTimeout(executor, " + t.toMillis() + ")`"), line));
    }
    assertTrue(ClientSettings.DEFAULT.networkTimeout().isEmpty());
  }

  @Test
  void subSecondTimeoutsAreADecimalLoginTimeoutAndANetworkTimeout() {
    ClientSettings c = ClientSettings.FAST;
    assertEquals("0.25", c.pgjdbc().getProperty("loginTimeout"));
    // the whole-second properties round up, so they never cut the sub-second bounds short
    assertEquals("1", c.pgjdbc().getProperty("connectTimeout"));
    assertEquals("1", c.pgjdbc().getProperty("socketTimeout"));
    assertEquals(Optional.of(Duration.ofMillis(250)), c.networkTimeout());
    assertEquals("1", ClientSettings.DEFAULT.pgjdbc().getProperty("loginTimeout"));
    assertEquals("2", ClientSettings.DEFAULT.pgjdbc().getProperty("socketTimeout"));
    assertThrows(
        IllegalArgumentException.class,
        () -> new ClientSettings("x", Duration.ZERO, Duration.ofSeconds(1), 2, 1000, 2, 1, 2));
  }

  @Test
  void eachBenchProfileCarriesItsClientSettings() {
    assertEquals(ClientSettings.DEFAULT, FailoverBench.Settings.DEFAULT.client);
    assertEquals(ClientSettings.FAST, FailoverBench.Settings.FAST.client);
    assertEquals(ClientSettings.FAST, ClientSettings.of("fast"));
    assertEquals(
        "unknown settings profile slow: use default or fast",
        assertThrows(IllegalArgumentException.class, () -> ClientSettings.of("slow")).getMessage());
  }

  @Test
  void thePgjdbcPropertiesAreTheUrlParameters() {
    ClientSettings c = ClientSettings.FAST;
    StringBuilder url = new StringBuilder();
    for (String key :
        List.of(
            "connectTimeout",
            "loginTimeout",
            "socketTimeout",
            "tcpKeepAlive",
            "targetServerType")) {
      url.append(url.length() == 0 ? "" : "&")
          .append(key)
          .append('=')
          .append(c.pgjdbc().getProperty(key));
    }
    assertEquals(c.pgjdbcUrlParameters(), url.toString());
    assertEquals(5, c.pgjdbc().size());
  }
}
