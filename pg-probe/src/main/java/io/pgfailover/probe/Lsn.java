package io.pgfailover.probe;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A WAL position (pg_lsn): an unsigned 64-bit byte offset, written by PostgreSQL as two hexadecimal
 * halves, e.g. {@code 16/B374D848}.
 */
public record Lsn(long value) implements Comparable<Lsn> {

  private static final Pattern TEXT = Pattern.compile("([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})");

  public static Lsn parse(String text) {
    Matcher m = TEXT.matcher(text == null ? "" : text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "invalid LSN '"
              + text
              + "': expected two hexadecimal numbers of up to 8 digits separated by '/',"
              + " e.g. 16/B374D848");
    }
    return new Lsn((Long.parseLong(m.group(1), 16) << 32) | Long.parseLong(m.group(2), 16));
  }

  /** Bytes of WAL from {@code other} to this position; negative when {@code other} is ahead. */
  public long minus(Lsn other) {
    return value - other.value;
  }

  @Override
  public int compareTo(Lsn other) {
    return Long.compareUnsigned(value, other.value);
  }

  @Override
  public String toString() {
    return Long.toHexString(value >>> 32).toUpperCase()
        + "/"
        + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
  }
}
