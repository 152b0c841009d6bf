package io.pgfailover.testsupport.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The README's client guidance is the one {@link ClientSettings} defines and the bench uses. */
class ClientSettingsTest {

  @Test
  void theReadmesTableGivesEachProfilesSettingsAsTheBenchUsesThem() throws Exception {
    String readme = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("README.md"));
    for (ClientSettings c : List.of(ClientSettings.DEFAULT, ClientSettings.FAST)) {
      String row = "| `" + c.profile() + "` (";
      assertTrue(readme.contains(row), "the README has a row for " + c.profile());
      String line = readme.substring(readme.indexOf(row));
      line = line.substring(0, line.indexOf('\n'));
      assertTrue(line.contains("`" + c.pgjdbcUrlParameters() + "`"), line);
      assertTrue(line.contains("`" + c.libpq() + "`"), line);
    }
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
