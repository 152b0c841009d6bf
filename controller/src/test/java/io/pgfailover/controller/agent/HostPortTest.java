package io.pgfailover.controller.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HostPortTest {
  @Test
  void hostsPortsAndBracketedIpv6() {
    assertEquals(new HostPort("10.0.2.10", 5432), HostPort.parse("10.0.2.10:5432"));
    assertEquals(new HostPort("fd00::10", 5432), HostPort.parse("[fd00::10]:5432"));
    assertEquals("[fd00::10]:5432", HostPort.parse("[fd00::10]:5432").toString());
    for (String bad :
        new String[] {"10.0.2.10", "fd00::10:5432", ":5432", "h:0", "h:x", "a b:1", "h:"}) {
      assertThrows(IllegalArgumentException.class, () -> HostPort.parse(bad), bad);
    }
  }
}
