package io.pgfailover.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProbeSettingsTest {

  @Test
  void defaultsAreOneSecondWithWriteCheckOff() {
    ProbeSettings d = ProbeSettings.defaults();
    assertEquals(Duration.ofSeconds(1), d.deadline());
    assertEquals(Duration.ofMillis(500), d.writeCheckTimeout());
    assertFalse(d.writeCheck());
  }

  @Test
  void writeCheckTimeoutMustFitInsideTheDeadline() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new ProbeSettings(Duration.ofSeconds(1), Duration.ofSeconds(2), true));
    assertEquals(
        "writeCheckTimeout PT2S must be shorter than deadline PT1S because the write check runs"
            + " inside the probe deadline; lower writeCheckTimeout or raise deadline",
        e.getMessage());
  }

  /** The fast profile's witness: an agent probing with 500 ms and no write check must start. */
  @Test
  void aShortDeadlineWithoutWriteCheckIgnoresTheWriteCheckTimeout() {
    ProbeSettings s = ProbeSettings.defaults().withDeadline(Duration.ofMillis(500));
    assertEquals(Duration.ofMillis(500), s.deadline());
    assertThrows(IllegalArgumentException.class, () -> s.withWriteCheck(true));
  }

  @Test
  void deadlineOutOfRangeNamesTheRange() {
    assertEquals(
        "deadline PT0.01S is out of range: use between PT0.05S and PT5M",
        assertThrows(
                IllegalArgumentException.class,
                () -> new ProbeSettings(Duration.ofMillis(10), Duration.ofMillis(5), false))
            .getMessage());
    assertEquals(
        "deadline PT10M is out of range: use between PT0.05S and PT5M",
        assertThrows(
                IllegalArgumentException.class,
                () -> new ProbeSettings(Duration.ofMinutes(10), Duration.ofMillis(5), false))
            .getMessage());
  }

  @Test
  void nonPositiveWriteCheckTimeoutIsRejected() {
    assertEquals(
        "writeCheckTimeout PT0S must be positive, e.g. PT0.5S",
        assertThrows(
                IllegalArgumentException.class,
                () -> new ProbeSettings(Duration.ofSeconds(1), Duration.ZERO, false))
            .getMessage());
    assertEquals(
        "writeCheckTimeout PT0.0000005S is below statement_timeout's 1 ms resolution",
        assertThrows(
                IllegalArgumentException.class,
                () -> new ProbeSettings(Duration.ofSeconds(1), Duration.ofNanos(500), false))
            .getMessage());
  }

  @Test
  void nullsNameTheField() {
    assertEquals(
        "deadline must be set, e.g. PT1S",
        assertThrows(
                NullPointerException.class,
                () -> new ProbeSettings(null, Duration.ofMillis(5), false))
            .getMessage());
  }

  @Test
  void endpointValidationNamesTheFieldAndTheFix() {
    PasswordSource pw = PasswordSource.literal("x");
    assertEquals(
        "node pg-a: port 0 must be between 1 and 65535",
        assertThrows(
                IllegalArgumentException.class,
                () -> NodeEndpoint.of("pg-a", "h", 0, "postgres", "u", pw))
            .getMessage());
    assertEquals(
        "NodeEndpoint.host must not be empty (a DNS name or IP address)",
        assertThrows(
                IllegalArgumentException.class,
                () -> NodeEndpoint.of("pg-a", " ", 5432, "postgres", "u", pw))
            .getMessage());
    assertEquals(
        "node pg-a: jdbcProperties must not set 'socketTimeout'; set ProbeSettings.deadline"
            + " instead",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    new NodeEndpoint(
                        "pg-a", "h", 5432, "postgres", "u", pw, Map.of("socketTimeout", "5")))
            .getMessage());
    assertEquals(
        "node pg-a: jdbcProperties must not set 'password'; set NodeEndpoint.password (a"
            + " PasswordSource) instead",
        assertThrows(
                IllegalArgumentException.class,
                () ->
                    new NodeEndpoint(
                        "pg-a", "h", 5432, "postgres", "u", pw, Map.of("password", "x")))
            .getMessage());
  }
}
