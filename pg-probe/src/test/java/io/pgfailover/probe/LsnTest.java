package io.pgfailover.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class LsnTest {

  @ParameterizedTest
  @CsvSource({
    "0/0, 0",
    "0/16B3748, 23803720",
    "16/B374D848, 97500059720",
    "FFFFFFFF/FFFFFFFF, -1",
  })
  void parsesAndPrintsPostgresNotation(String text, long value) {
    Lsn lsn = Lsn.parse(text);
    assertEquals(value, lsn.value());
    assertEquals(text, lsn.toString());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "16", "16/", "/B374D848", "16/B374D848/1", "G/0", "123456789/0", " 1 /2"})
  void rejectsMalformedTextNamingTheExpectedForm(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Lsn.parse(text));
    assertEquals(
        "invalid LSN '"
            + text
            + "': expected two hexadecimal numbers of up to 8 digits separated by"
            + " '/', e.g. 16/B374D848",
        e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void lowercaseHexIsAccepted() {
    assertEquals(Lsn.parse("16/B374D848"), Lsn.parse("16/b374d848"));
  }

  @org.junit.jupiter.api.Test
  void minusCountsBytesAcrossTheHalfBoundaryAndComparesUnsigned() {
    assertEquals(8, Lsn.parse("1/4").minus(Lsn.parse("0/FFFFFFFC")));
    assertEquals(-8, Lsn.parse("0/FFFFFFFC").minus(Lsn.parse("1/4")));
    assertTrue(Lsn.parse("FFFFFFFF/0").compareTo(Lsn.parse("1/0")) > 0);
  }
}
