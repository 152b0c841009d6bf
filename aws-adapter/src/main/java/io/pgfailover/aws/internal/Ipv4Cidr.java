package io.pgfailover.aws.internal;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** An IPv4 CIDR block, just enough to check that the virtual IP lies outside the VPC. */
public record Ipv4Cidr(long network, int prefix) {
  private static final Pattern FORM =
      Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})/(\\d{1,2})");

  public static Ipv4Cidr parse(String text) {
    Matcher m = text == null ? null : FORM.matcher(text.trim());
    if (m == null || !m.matches()) {
      throw new IllegalArgumentException(
          "not an IPv4 CIDR block like 192.168.240.10/32: '" + text + "'");
    }
    long address = 0;
    for (int i = 1; i <= 4; i++) {
      int octet = Integer.parseInt(m.group(i));
      if (octet > 255) {
        throw new IllegalArgumentException(
            "not an IPv4 CIDR block (octet " + octet + " > 255): '" + text + "'");
      }
      address = (address << 8) | octet;
    }
    int prefix = Integer.parseInt(m.group(5));
    if (prefix > 32) {
      throw new IllegalArgumentException(
          "not an IPv4 CIDR block (prefix /" + prefix + " > 32): '" + text + "'");
    }
    return new Ipv4Cidr(address & mask(prefix), prefix);
  }

  public boolean overlaps(Ipv4Cidr other) {
    int shorter = Math.min(prefix, other.prefix);
    return (network & mask(shorter)) == (other.network & mask(shorter));
  }

  private static long mask(int prefix) {
    return prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
  }

  /** Canonical text, e.g. 192.168.240.10/32, as EC2 returns it in routes. */
  @Override
  public String toString() {
    return ((network >> 24) & 0xFF)
        + "."
        + ((network >> 16) & 0xFF)
        + "."
        + ((network >> 8) & 0xFF)
        + "."
        + (network & 0xFF)
        + "/"
        + prefix;
  }
}
