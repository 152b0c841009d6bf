package io.pgfailover.aws;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RouteTargetTest {
  @Test
  void parsesAnEniId() {
    RouteTarget t = RouteTarget.parse("eni-0123456789abcdef0");
    assertEquals(RouteTarget.Kind.NETWORK_INTERFACE, t.kind());
    assertEquals("eni-0123456789abcdef0", t.id());
  }

  @Test
  void parsesAnInstanceIdAndTrims() {
    RouteTarget t = RouteTarget.parse("  i-0abc1234  ");
    assertEquals(RouteTarget.Kind.INSTANCE, t.kind());
    assertEquals("i-0abc1234", t.id());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", "nat-0123456789abcdef0", "igw-12345678", "ENI-0123abcd", "rtb-0123abcd"})
  void rejectsWhatIsNeitherAndNamesBothForms(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RouteTarget.parse(text));
    assertEquals(
        "route target must be an ENI id (eni-…, preferred) or an instance id (i-…), got '"
            + text
            + "'",
        e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"eni-", "eni-123", "eni-XYZ12345", "eni-0123456789abcdef01"})
  void rejectsMalformedEniIds(String text) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> RouteTarget.parse(text));
    assertEquals(
        "route target NETWORK_INTERFACE id must look like eni-0123abcd (8 or 17 hex digits), got '"
            + text
            + "'",
        e.getMessage());
  }

  @Test
  void rejectsNull() {
    assertThrows(IllegalArgumentException.class, () -> RouteTarget.parse(null));
  }

  @Test
  void aRouteStateMatchesTheTargetByItsKind() {
    RouteState viaEni =
        new RouteState(
            "rtb-0123abcd",
            RouteState.Status.ACTIVE,
            Optional.of("eni-0123abcd"),
            Optional.of("i-0123abcd"),
            Optional.empty());
    assertTrue(viaEni.pointsAt(RouteTarget.parse("eni-0123abcd")));
    assertTrue(viaEni.pointsAt(RouteTarget.parse("i-0123abcd")));
    assertFalse(viaEni.pointsAt(RouteTarget.parse("eni-4567abcd")));
    assertEquals(Optional.of(RouteTarget.parse("eni-0123abcd")), viaEni.target(), "ENI preferred");
    assertFalse(RouteState.absent("rtb-0123abcd").pointsAt(RouteTarget.parse("eni-0123abcd")));
    RouteState toGateway =
        new RouteState(
            "rtb-0123abcd",
            RouteState.Status.ACTIVE,
            Optional.empty(),
            Optional.empty(),
            Optional.of("igw-0123abcd"));
    assertEquals("igw-0123abcd", toGateway.describe());
    assertEquals(Optional.empty(), toGateway.target());
  }
}
