package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AwsSettingsTest {
  private static final AwsSettings DEFAULTS = AwsSettings.defaults("eu-west-1");

  @Test
  void defaultsAreValidAndProbeWithDryRunOnRealAws() {
    assertEquals(Optional.empty(), DEFAULTS.endpoint());
    assertEquals(Duration.ofSeconds(2), DEFAULTS.apiCallAttemptTimeout());
    assertEquals(Duration.ofSeconds(5), DEFAULTS.apiCallTimeout());
    assertEquals(Duration.ofSeconds(20), DEFAULTS.retryDeadline());
    assertEquals(10, DEFAULTS.maxConcurrency());
    assertTrue(DEFAULTS.dryRunProbes());
  }

  @Test
  void anEndpointOverrideTurnsDryRunProbesOff() {
    AwsSettings emulated = DEFAULTS.withEndpoint(URI.create("http://127.0.0.1:5000"));
    assertFalse(emulated.dryRunProbes());
    assertEquals(Optional.of(URI.create("http://127.0.0.1:5000")), emulated.endpoint());
  }

  @Test
  void rejectsARegionThatIsNotARegionCode() {
    assertEquals(
        "invalid AWS settings: region must be an AWS region code like eu-west-1, got 'Ireland'",
        message(() -> AwsSettings.defaults("Ireland")));
  }

  @Test
  void rejectsAnEndpointThatIsNotAnHttpUrl() {
    assertEquals(
        "invalid AWS settings: endpoint must be an http(s) URL like http://127.0.0.1:5000, got"
            + " 'ftp://x': fix it or leave it unset for real AWS",
        message(() -> DEFAULTS.withEndpoint(URI.create("ftp://x"))));
  }

  @Test
  void rejectsAnAttemptTimeoutLongerThanTheCallTimeout() {
    assertEquals(
        "invalid AWS settings: apiCallTimeout (PT1S) must be >= apiCallAttemptTimeout (PT2S): raise"
            + " apiCallTimeout or lower apiCallAttemptTimeout",
        message(() -> DEFAULTS.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2))));
  }

  @Test
  void rejectsARetryDeadlineShorterThanOneCall() {
    assertEquals(
        "invalid AWS settings: retryDeadline (PT3S) must be >= apiCallTimeout (PT5S): a deadline"
            + " shorter than one call leaves no room for a retry",
        message(() -> DEFAULTS.withRetryDeadline(Duration.ofSeconds(3))));
  }

  @Test
  void rejectsConcurrencyOutOfRange() {
    assertEquals(
        "invalid AWS settings: maxConcurrency must be between 1 and 50, got 0",
        message(() -> DEFAULTS.withMaxConcurrency(0)));
    assertEquals(
        "invalid AWS settings: maxConcurrency must be between 1 and 50, got 51",
        message(() -> DEFAULTS.withMaxConcurrency(51)));
  }

  @Test
  void reportsEveryProblemAtOnce() {
    String m =
        message(
            () ->
                new AwsSettings(
                    "x", Optional.empty(), Duration.ZERO, Duration.ofSeconds(-1), null, 0, true));
    assertTrue(m.contains("region must be"), m);
    assertTrue(m.contains("apiCallTimeout must be a positive duration, got PT0S"), m);
    assertTrue(m.contains("apiCallAttemptTimeout must be a positive duration, got PT-1S"), m);
    assertTrue(m.contains("retryDeadline must be a positive duration, got null"), m);
    assertTrue(m.contains("maxConcurrency must be between 1 and 50, got 0"), m);
  }

  private static String message(Runnable build) {
    return assertThrows(IllegalArgumentException.class, build::run).getMessage();
  }
}
