package io.pgfailover.controller.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.port.NodeAgents.ControlData;
import io.pgfailover.probe.Role;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * pg_controldata's output as PostgreSQL 15.18 printed it (LC_ALL=C) for a cluster in each state the
 * agent meets: captured from real servers into src/test/resources/pg_controldata/.
 */
class ControlFileTest {

  @Test
  void aRunningPrimaryIsInProductionNeedingRecoveryWithWalLogHintsAndChecksums() {
    ControlFile c = parse("in-production.txt");
    assertEquals(new ControlData("in production", 1, "0/17414F8", false, true, true), c.facts());
    assertEquals(Role.PRIMARY, c.lastRole());
  }

  @Test
  void aKilledPrimaryLooksLikeARunningOneNotCleanlyShutDown() {
    ControlFile c = parse("crashed.txt");
    assertEquals("in production", c.state());
    assertFalse(c.cleanShutdown());
    assertEquals("0/2000060", c.checkpointLsn());
  }

  @Test
  void aCleanlyStoppedPrimaryWithChecksumsButNoWalLogHints() {
    ControlFile c = parse("shutdown-checksums.txt");
    assertEquals(new ControlData("shut down", 1, "0/17414F8", true, true, false), c.facts());
    assertEquals(Role.PRIMARY, c.lastRole());
  }

  @Test
  void aStandbyIsInArchiveRecoveryAndStopsInRecovery() {
    ControlFile running = parse("in-archive-recovery.txt");
    assertEquals(Role.STANDBY, running.lastRole());
    assertFalse(running.cleanShutdown());
    ControlFile stopped = parse("shut-down-in-recovery.txt");
    assertEquals("shut down in recovery", stopped.state());
    assertEquals(Role.STANDBY, stopped.lastRole());
    assertTrue(stopped.cleanShutdown());
  }

  @Test
  void aPromotedServerKilledAfterItsCheckpointShowsTheNewTimeline() {
    ControlFile c = parse("promoted-killed.txt");
    assertEquals(2, c.checkpointTimeline());
    assertEquals(0, c.minRecoveryTimeline());
    assertEquals(Role.PRIMARY, c.lastRole());
  }

  @Test
  void outputWithoutTheNeededLinesIsNotParsed() {
    assertEquals(
        Optional.empty(),
        ControlFile.parse(
            "pg_controldata: error: could not open file \"/x/global/pg_control\" for reading: No"
                + " such file or directory\n"));
    assertEquals(Optional.empty(), ControlFile.parse(""));
  }

  private static ControlFile parse(String resource) {
    try (InputStream in =
        ControlFileTest.class.getResourceAsStream("/pg_controldata/" + resource)) {
      return ControlFile.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)).orElseThrow();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
