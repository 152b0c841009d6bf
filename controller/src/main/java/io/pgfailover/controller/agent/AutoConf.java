package io.pgfailover.controller.agent;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading and editing PostgreSQL configuration files in their own syntax ({@code key = 'value'},
 * comments after {@code #}, the equals sign optional, keys case-insensitive, inside quotes {@code
 * ''} or a backslash escaping a character), as {@code ALTER SYSTEM} writes postgresql.auto.conf.
 */
final class AutoConf {
  /**
   * The settings a rejoin owns in postgresql.auto.conf. pg_rewind and pg_basebackup copy the
   * source's file: its own {@code primary_conninfo} (from when it was a standby), the managed
   * synchronous standby of the old pair, a switchover's write stop. A standby must carry none of
   * them but the ones the agent writes.
   */
  static final List<String> MANAGED =
      List.of(
          "primary_conninfo",
          "primary_slot_name",
          "synchronous_standby_names",
          "default_transaction_read_only");

  private static final Pattern SETTING =
      Pattern.compile("^\\s*([A-Za-z_][A-Za-z0-9_.$]*)\\s*(?:=\\s*)?(.*)$");

  private AutoConf() {}

  /**
   * {@code text} without any line that sets a {@link #MANAGED} key, then {@code settings} appended,
   * one {@code key = 'value'} line each (in their order). Every other line is kept as it was.
   */
  static String rewrite(String text, Map<String, String> settings) {
    StringBuilder out = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      Matcher m = SETTING.matcher(line);
      if (m.matches() && MANAGED.contains(m.group(1).toLowerCase(Locale.ROOT))) {
        continue;
      }
      out.append(line).append('\n');
    }
    // split keeps a last empty element after a final newline: do not grow a blank line per edit.
    while (out.length() >= 2
        && out.charAt(out.length() - 1) == '\n'
        && out.charAt(out.length() - 2) == '\n') {
      out.setLength(out.length() - 1);
    }
    if (out.length() == 1) {
      out.setLength(0);
    }
    settings.forEach((k, v) -> out.append(k).append(" = ").append(quote(v)).append('\n'));
    return out.toString();
  }

  /** The value the last line setting {@code key} gives it, unquoted; empty when none does. */
  static Optional<String> value(String text, String key) {
    Optional<String> found = Optional.empty();
    for (String line : text.split("\n")) {
      Matcher m = SETTING.matcher(line);
      if (m.matches() && m.group(1).equalsIgnoreCase(key)) {
        found = Optional.of(unquote(m.group(2)));
      }
    }
    return found;
  }

  /** A quoted value: quote and backslash doubled, as ALTER SYSTEM writes them. */
  static String quote(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
  }

  /** The value at the start of {@code rest}: a quoted string, or a bare word before a comment. */
  static String unquote(String rest) {
    String r = rest.strip();
    if (!r.startsWith("'")) {
      int end = 0;
      while (end < r.length() && !Character.isWhitespace(r.charAt(end)) && r.charAt(end) != '#') {
        end++;
      }
      return r.substring(0, end);
    }
    StringBuilder v = new StringBuilder();
    for (int i = 1; i < r.length(); i++) {
      char c = r.charAt(i);
      if (c == '\'') {
        if (i + 1 < r.length() && r.charAt(i + 1) == '\'') {
          v.append('\'');
          i++;
          continue;
        }
        break;
      }
      if (c == '\\' && i + 1 < r.length()) {
        char next = r.charAt(++i);
        v.append(
            switch (next) {
              case 'n' -> '\n';
              case 't' -> '\t';
              case 'r' -> '\r';
              case 'b' -> '\b';
              case 'f' -> '\f';
              default -> next;
            });
        continue;
      }
      v.append(c);
    }
    return v.toString();
  }
}
