package io.pgfailover.controller.agent;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * libpq connection strings: {@code key=value} pairs separated by spaces, a value single-quoted when
 * it holds spaces, with {@code \'} and {@code \\} escapes. Written for pg_rewind's {@code
 * --source-server}, pg_basebackup's {@code -d} and a standby's {@code primary_conninfo}; read to
 * show {@code primary_conninfo} without its password.
 */
final class Conninfo {
  private static final Pattern URI_PASSWORD = Pattern.compile("(://[^:/@?]*):[^@/?]*@");
  private static final Pattern URI_PASSWORD_PARAM = Pattern.compile("([?&])password=[^&]*&?");

  private Conninfo() {}

  /** The pairs in order; throws {@link IllegalArgumentException} for a malformed string. */
  static Map<String, String> parse(String conninfo) {
    Map<String, String> out = new LinkedHashMap<>();
    int i = 0;
    int n = conninfo.length();
    while (true) {
      while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
        i++;
      }
      if (i >= n) {
        return out;
      }
      int keyStart = i;
      while (i < n && conninfo.charAt(i) != '=' && !Character.isWhitespace(conninfo.charAt(i))) {
        i++;
      }
      String key = conninfo.substring(keyStart, i);
      while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
        i++;
      }
      if (key.isEmpty() || i >= n || conninfo.charAt(i) != '=') {
        throw new IllegalArgumentException("missing \"=\" after \"" + key + "\"");
      }
      i++;
      while (i < n && Character.isWhitespace(conninfo.charAt(i))) {
        i++;
      }
      StringBuilder value = new StringBuilder();
      if (i < n && conninfo.charAt(i) == '\'') {
        i++;
        while (true) {
          if (i >= n) {
            throw new IllegalArgumentException("unterminated quoted value of \"" + key + "\"");
          }
          char c = conninfo.charAt(i++);
          if (c == '\'') {
            break;
          }
          if (c == '\\' && i < n) {
            c = conninfo.charAt(i++);
          }
          value.append(c);
        }
      } else {
        while (i < n && !Character.isWhitespace(conninfo.charAt(i))) {
          char c = conninfo.charAt(i++);
          if (c == '\\' && i < n) {
            c = conninfo.charAt(i++);
          }
          value.append(c);
        }
      }
      out.put(key, value.toString());
    }
  }

  /** The pairs as one string, every value quoted and escaped. */
  static String format(Map<String, String> pairs) {
    StringBuilder out = new StringBuilder();
    pairs.forEach(
        (k, v) -> {
          if (out.length() > 0) {
            out.append(' ');
          }
          out.append(k)
              .append("='")
              .append(v.replace("\\", "\\\\").replace("'", "\\'"))
              .append('\'');
        });
    return out.toString();
  }

  /**
   * {@code conninfo} as it may be shown: without a password, whether as a {@code password=} pair or
   * in a URI. One that cannot be parsed is not shown at all.
   */
  static String withoutPassword(String conninfo) {
    String c = conninfo.strip();
    if (c.startsWith("postgresql://") || c.startsWith("postgres://")) {
      String noUserinfo = URI_PASSWORD.matcher(c).replaceFirst("$1@");
      return URI_PASSWORD_PARAM.matcher(noUserinfo).replaceAll("$1").replaceAll("[?&]$", "");
    }
    try {
      Map<String, String> pairs = parse(c);
      pairs.remove("password");
      return format(pairs);
    } catch (IllegalArgumentException e) {
      return "(not shown: it cannot be parsed, and may hold a password)";
    }
  }
}
