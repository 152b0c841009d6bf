package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import io.pgfailover.testsupport.aws.LeaseTableFixture;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The lease's conditional writes against the emulator's DynamoDB. */
class LeaseTableIT {
  @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();
  private static final Duration D = Duration.ofSeconds(10);

  private AwsClients clients;
  private LeaseTable table;

  @BeforeEach
  void setUp() {
    clients = Emulated.clients(aws, new FaultInjector());
    table = new LeaseTable(clients, LeaseTableFixture.create(aws, "lease"), Duration.ofSeconds(2));
  }

  @AfterEach
  void close() {
    clients.close();
  }

  @Test
  void firstTakeCreatesTokenOneAndASecondFirstTakeLoses() {
    assertEquals(Optional.empty(), table.read("c"));
    LeaseTable.Item a = table.take("c", "a", Optional.empty(), D).orElseThrow();
    assertEquals(1, a.token());
    assertEquals(
        Optional.empty(),
        table.take("c", "b", Optional.empty(), D),
        "the item exists: b must not overwrite it");
    assertEquals(a, table.read("c").orElseThrow());
  }

  @Test
  void takeOverNeedsTheExactItemSeenAndRaisesTheToken() {
    LeaseTable.Item a = table.take("c", "a", Optional.empty(), D).orElseThrow();
    LeaseTable.Item renewed = table.renew("c", "a", a.token(), D).orElseThrow();
    assertEquals(
        Optional.empty(),
        table.take("c", "b", Optional.of(a), D),
        "a renewed after b looked: the take must fail");
    LeaseTable.Item b = table.take("c", "b", Optional.of(renewed), D).orElseThrow();
    assertEquals(2, b.token());
    assertEquals("b", table.read("c").orElseThrow().owner());
  }

  @Test
  void aHolderThatLostTheLeaseCannotRenewOrReleaseIt() {
    LeaseTable.Item a = table.take("c", "a", Optional.empty(), D).orElseThrow();
    LeaseTable.Item b = table.take("c", "b", Optional.of(a), D).orElseThrow();
    assertEquals(Optional.empty(), table.renew("c", "a", a.token(), D));
    assertFalse(table.release("c", "a", a.token()));
    assertEquals(b, table.read("c").orElseThrow());
  }

  @Test
  void releaseKeepsTheTokenSoItNeverRestarts() {
    LeaseTable.Item a = table.take("c", "a", Optional.empty(), D).orElseThrow();
    assertTrue(table.release("c", "a", a.token()));
    LeaseTable.Item released = table.read("c").orElseThrow();
    assertTrue(released.released());
    assertEquals(
        Optional.empty(), table.renew("c", "a", a.token(), D), "a released lease is not renewed");
    assertEquals(2, table.take("c", "b", Optional.of(released), D).orElseThrow().token());
  }

  @Test
  void aMissingTableThrowsInsteadOfLookingFree() {
    LeaseTable missing = new LeaseTable(clients, "no-such-table", Duration.ofSeconds(2));
    AwsCallException e = assertThrows(AwsCallException.class, () -> missing.read("c"));
    assertTrue(e.getMessage().contains("dynamodb:GetItem"), e.getMessage());
  }
}
