package io.pgfailover.testsupport.lab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.pgfailover.testsupport.lab.FailoverBench.Ack;
import io.pgfailover.testsupport.lab.FailoverBench.ClientOutcome;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The measurement bench/failover.sh and bench/peers.sh share: what the client saw, from its
 * acknowledgements alone. Acks are written "node@ms since the fault"; the fault is at 0.
 */
class ClientOutcomeTest {
  private static final Instant FAULT = Instant.parse("2026-01-01T00:00:00Z");

  static Stream<Arguments> drills() {
    return Stream.of(
        Arguments.of(
            "outage across the fault, all acks kept",
            "a@-200 a@-100 a@-10 b@2500 b@2510",
            Optional.of(Set.of(1L, 2L, 3L, 4L, 5L)),
            new ClientOutcome(-10, 2500, 5, 0, false)),
        Arguments.of(
            "a longer pause before the fault is not the outage",
            "a@-5000 a@-100 b@900 b@910",
            Optional.of(Set.of(1L, 2L, 3L, 4L)),
            new ClientOutcome(-100, 900, 4, 0, false)),
        Arguments.of(
            "acks the new primary lacks are lost",
            "a@-20 a@-10 b@3000",
            Optional.of(Set.of(1L, 3L)),
            new ClientOutcome(-10, 3000, 3, 1, false)),
        Arguments.of(
            "the old primary acknowledging after the new one is split brain",
            "a@-10 b@2000 a@2500 b@2600",
            Optional.of(Set.of(1L, 2L, 4L)),
            new ClientOutcome(-10, 2000, 4, 1, true)),
        Arguments.of(
            "no failover: nothing resumed, loss unknown",
            "a@-20 a@-10",
            Optional.empty(),
            new ClientOutcome(-1, -1, 2, -1, false)));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("drills")
  void measuresWhatTheClientSaw(
      String name, String acks, Optional<Set<Long>> stored, ClientOutcome expected) {
    assertEquals(expected, ClientOutcome.of(parse(acks), FAULT, stored));
  }

  /** Ids count up from 1 in the order written; the outcome sorts by time itself. */
  private static List<Ack> parse(String acks) {
    List<Ack> out = new ArrayList<>();
    long id = 1;
    for (String a : acks.split(" ")) {
      String[] p = a.split("@");
      out.add(new Ack(id++, FAULT.plusMillis(Long.parseLong(p[1])), p[0]));
    }
    return out;
  }
}
