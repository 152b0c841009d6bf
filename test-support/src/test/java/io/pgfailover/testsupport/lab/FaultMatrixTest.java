package io.pgfailover.testsupport.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The flapping link's knobs: what each environment value runs, and the error for a wrong one. */
class FaultMatrixTest {
  @Test
  void theLossLastsTheSpecifiedMinuteUnlessToldOtherwise() {
    assertEquals(Duration.ofSeconds(60), FaultMatrix.flap(null));
    assertEquals(Duration.ofSeconds(60), FaultMatrix.flap(" "));
    assertEquals(Duration.ofSeconds(300), FaultMatrix.flap("300"));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FaultMatrix.flap("301"));
    assertTrue(e.getMessage().startsWith("PGFAILOVER_FLAP_SECONDS must be"), e.getMessage());
  }

  @Test
  void theSettingsAreTheShippedDefaultsUnlessFastIsAsked() {
    assertEquals(FailoverBench.Settings.DEFAULT, FaultMatrix.flapSettings(null));
    assertEquals(FailoverBench.Settings.DEFAULT, FaultMatrix.flapSettings(""));
    assertEquals(FailoverBench.Settings.FAST, FaultMatrix.flapSettings(" Fast "));
    assertEquals(LabConfig.FAST_PROBE, FaultMatrix.flapSettings("fast").probe);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> FaultMatrix.flapSettings("quick"));
    assertEquals(
        "PGFAILOVER_FLAP_SETTINGS must be default or fast, got \"quick\"; unset it for the shipped"
            + " defaults",
        e.getMessage());
  }
}
