package io.pgfailover.controller.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConninfoTest {

  @Test
  void pairsParseWithQuotesEscapesAndSpacesAroundTheEqualsSign() {
    Map<String, String> expected = new LinkedHashMap<>();
    expected.put("host", "10.0.1.10");
    expected.put("port", "5432");
    expected.put("passfile", "/var/lib/pg sql/.pgpass");
    expected.put("application_name", "it's");
    expected.put("options", "");
    assertEquals(
        expected,
        Conninfo.parse(
            "host=10.0.1.10  port = 5432 passfile='/var/lib/pg sql/.pgpass'"
                + " application_name=it\\'s options=''"));
  }

  @Test
  void formattedPairsParseBackToThemselves() {
    Map<String, String> pairs = new LinkedHashMap<>();
    pairs.put("host", "fd00::10");
    pairs.put("user", "rep licator");
    pairs.put("password", "a'b\\c d");
    assertEquals(pairs, Conninfo.parse(Conninfo.format(pairs)));
  }

  @Test
  void aPasswordIsNeverShown() {
    assertEquals(
        "host='10.0.1.10' user='replicator' application_name='pg-a'",
        Conninfo.withoutPassword(
            "host=10.0.1.10 user=replicator password='s3cr et' application_name=pg-a"));
    assertEquals(
        "postgresql://replicator@10.0.1.10:5432/postgres?sslmode=require",
        Conninfo.withoutPassword(
            "postgresql://replicator:s3cret@10.0.1.10:5432/postgres?password=x&sslmode=require"));
    assertEquals(
        "(not shown: it cannot be parsed, and may hold a password)",
        Conninfo.withoutPassword("host=x password='unterminated"));
  }

  @Test
  void malformedStringsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> Conninfo.parse("host"));
    assertThrows(IllegalArgumentException.class, () -> Conninfo.parse("=x"));
    assertThrows(IllegalArgumentException.class, () -> Conninfo.parse("host='x"));
  }
}
