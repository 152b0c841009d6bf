package io.pgfailover.aws.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Ipv4CidrTest {
  @Test
  void parsesToCanonicalForm() {
    assertEquals("192.168.240.10/32", Ipv4Cidr.parse(" 192.168.240.10/32 ").toString());
    assertEquals("10.0.0.0/16", Ipv4Cidr.parse("10.0.7.9/16").toString(), "host bits cleared");
  }

  @Test
  void overlapIsContainmentEitherWay() {
    Ipv4Cidr vpc = Ipv4Cidr.parse("10.0.0.0/16");
    assertTrue(vpc.overlaps(Ipv4Cidr.parse("10.0.200.1/32")));
    assertTrue(Ipv4Cidr.parse("10.0.200.1/32").overlaps(vpc));
    assertFalse(vpc.overlaps(Ipv4Cidr.parse("192.168.240.10/32")));
    assertFalse(vpc.overlaps(Ipv4Cidr.parse("10.1.0.0/16")));
  }

  @Test
  void rejectsWhatIsNotAnIpv4Cidr() {
    for (String bad :
        new String[] {"192.168.240.10", "300.1.1.1/32", "10.0.0.0/33", "fd00::1/128", ""}) {
      assertThrows(IllegalArgumentException.class, () -> Ipv4Cidr.parse(bad), bad);
    }
  }
}
