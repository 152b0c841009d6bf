package io.pgfailover.controller.events;

/**
 * Text that comes from outside (a URL path, a request's fields, a file's content) made safe for a
 * one-line {@code key=value} log: it can end neither the line nor its field.
 */
public final class LogText {
  /**
   * Longer text is cut, so that a request cannot make a log line arbitrarily long; far above the
   * longest decision sentence.
   */
  static final int MAX_CHARS = 1024;

  private LogText() {}

  /**
   * The text in double quotes, with backslash, double quote and every control character escaped
   * ({@code \n}, {@code \r}, {@code \t}, else as a four-digit unicode escape), cut after {@link
   * #MAX_CHARS}.
   */
  public static String quoted(String text) {
    StringBuilder out = new StringBuilder(Math.min(text.length(), MAX_CHARS) + 2).append('"');
    int n = Math.min(text.length(), MAX_CHARS);
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          // C0, DEL, C1 and the Unicode line and paragraph separators all break lines somewhere.
          if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029') {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    if (text.length() > n) {
      out.append("...(").append(text.length() - n).append(" more)");
    }
    return out.append('"').toString();
  }
}
