package io.pgfailover.controller.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads one YAML mapping field by field and records every problem with its line, instead of
 * stopping at the first. Each getter returns a value even on error (a placeholder) so that reading
 * can go on; the caller checks {@link Errors#isEmpty()} at the end.
 */
final class YamlFields {
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)");

  /**
   * No setting is sensibly longer; the bound also keeps sums of durations (the lease rule) and
   * their milliseconds far from overflowing.
   */
  static final Duration MAX_DURATION = Duration.ofHours(24);

  /** The error list shared by every reader of one file. */
  static final class Errors {
    final String source;
    final List<ConfigError> list = new ArrayList<>();

    Errors(String source) {
      this.source = source;
    }

    void add(Node at, String path, String problem, String fix) {
      list.add(
          new ConfigError(
              source, at == null ? 0 : at.getStartMark().getLine() + 1, path, problem, fix));
    }

    boolean isEmpty() {
      return list.isEmpty();
    }

    /** Ends reading a file: every problem found, or nothing. */
    void throwIfAny() throws ConfigException {
      if (!list.isEmpty()) {
        throw new ConfigException(list);
      }
    }
  }

  /** A config is a few kB: reading stops here, so a wrong or hostile file cannot fill the heap. */
  static final int MAX_FILE_BYTES = 1 << 20;

  /** A configuration file's text, read up to {@link #MAX_FILE_BYTES}, or the one error why not. */
  static String readFile(Path file) throws ConfigException {
    String source = file.toString();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] head = in.readNBytes(MAX_FILE_BYTES + 1);
      if (head.length > MAX_FILE_BYTES) {
        int line = 1;
        for (int i = 0; i < MAX_FILE_BYTES; i++) {
          line += head[i] == '\n' ? 1 : 0;
        }
        String size =
            Files.isRegularFile(file)
                ? Files.size(file) + " bytes"
                : "more than " + MAX_FILE_BYTES + " bytes";
        throw new ConfigException(
            List.of(
                new ConfigError(
                    source,
                    line,
                    "(file)",
                    "is "
                        + size
                        + ", over the limit of 1 MiB ("
                        + MAX_FILE_BYTES
                        + " bytes) reached on this line",
                    "a config is a few kB: check that this is the right file")));
      }
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(head)).toString();
    } catch (CharacterCodingException e) {
      throw new ConfigException(
          List.of(
              new ConfigError(
                  source, 0, "(file)", "is not UTF-8 text", "save it as UTF-8 (plain ASCII is)")));
    } catch (IOException e) {
      throw new ConfigException(
          List.of(
              new ConfigError(
                  source,
                  0,
                  "(file)",
                  "cannot be read: " + e.getMessage(),
                  "check the path and that this user may read it")));
    }
  }

  /**
   * The top-level mapping of a YAML file, with a fresh error list; bounded in aliases and nesting
   * ({@link BoundedYaml}); a syntax error, a refused structure or an empty file is the one error
   * thrown ({@code sample} names the file to start from).
   */
  static YamlFields top(String yaml, String source, String sample) throws ConfigException {
    Node root;
    try {
      root = BoundedYaml.compose(yaml, MAX_FILE_BYTES);
    } catch (BoundedYaml.Refused e) {
      throw new ConfigException(
          List.of(new ConfigError(source, e.line, "(yaml)", e.problem, e.fix)));
    }
    if (root == null) {
      throw new ConfigException(
          List.of(new ConfigError(source, 0, "(file)", "is empty", "start from " + sample)));
    }
    return new YamlFields(root, "", new Errors(source));
  }

  private final Errors errors;
  private final String path;
  private final Node self;
  private final Map<String, NodeTuple> byKey = new LinkedHashMap<>();
  private final java.util.Set<String> read = new java.util.LinkedHashSet<>();

  YamlFields(Node node, String path, Errors errors) {
    this.errors = errors;
    this.path = path;
    this.self = node;
    if (node instanceof MappingNode mapping) {
      for (NodeTuple tuple : mapping.getValue()) {
        String key = tuple.getKeyNode() instanceof ScalarNode s ? s.getValue() : null;
        if (key == null) {
          errors.add(
              tuple.getKeyNode(),
              path.isEmpty() ? "(top level)" : path,
              "a key must be a plain word, not a list or mapping",
              "write key: value");
        } else if (byKey.putIfAbsent(key, tuple) != null) {
          errors.add(tuple.getKeyNode(), child(key), "appears twice", "keep one " + key + " entry");
        }
      }
    } else if (node != null && !isNull(node)) {
      errors.add(
          node,
          path.isEmpty() ? "(top level)" : path,
          "must be a mapping of key: value",
          "indent the fields under " + (path.isEmpty() ? "the file's top level" : path));
    }
  }

  String child(String key) {
    return path.isEmpty() ? key : path + "." + key;
  }

  Node node() {
    return self;
  }

  Optional<Node> get(String key) {
    read.add(key);
    NodeTuple t = byKey.get(key);
    return t == null || isNull(t.getValueNode()) ? Optional.empty() : Optional.of(t.getValueNode());
  }

  /** The line to blame for a missing key: the mapping that should hold it. */
  private void missing(String key, String fix) {
    errors.add(self, child(key), "is required but missing", fix);
  }

  Optional<String> optionalString(String key) {
    return get(key).flatMap(n -> scalar(n, child(key)));
  }

  String requiredString(String key, String fix) {
    Optional<Node> n = get(key);
    if (n.isEmpty()) {
      missing(key, fix);
      return "";
    }
    return scalar(n.get(), child(key)).orElse("");
  }

  /** A string that must match a pattern, e.g. an EC2 id. */
  String requiredMatching(String key, Pattern pattern, String what, String example) {
    Optional<Node> n = get(key);
    if (n.isEmpty()) {
      missing(key, "add " + key + ": " + example);
      return "";
    }
    String v = scalar(n.get(), child(key)).orElse("");
    if (!v.isEmpty() && !pattern.matcher(v).matches()) {
      errors.add(n.get(), child(key), "\"" + v + "\" is not " + what, "write it like " + example);
    }
    return v;
  }

  Duration duration(String key, Duration dflt) {
    Optional<Node> n = get(key);
    if (n.isEmpty()) {
      return dflt;
    }
    String v = scalar(n.get(), child(key)).orElse("");
    Matcher m = DURATION.matcher(v.trim().toLowerCase(Locale.ROOT));
    if (!m.matches()) {
      errors.add(
          n.get(),
          child(key),
          "\"" + v + "\" is not a duration",
          "write a number and a unit, e.g. 1s, 500ms, 2m");
      return dflt;
    }
    long unitMillis =
        switch (m.group(2)) {
          case "ms" -> 1L;
          case "s" -> 1_000L;
          case "m" -> 60_000L;
          default -> 3_600_000L;
        };
    long millis;
    try {
      millis = Math.multiplyExact(Long.parseLong(m.group(1)), unitMillis);
    } catch (NumberFormatException | ArithmeticException e) {
      millis = Long.MAX_VALUE; // more digits than a long holds: longer than any bound
    }
    if (millis > MAX_DURATION.toMillis()) {
      errors.add(
          n.get(),
          child(key),
          "\"" + v + "\" is longer than 24h",
          "write a duration of at most 24h, e.g. 30s");
      return dflt;
    }
    return Duration.ofMillis(millis);
  }

  long integer(String key, long dflt, long min, long max) {
    Optional<Node> n = get(key);
    if (n.isEmpty()) {
      return dflt;
    }
    String v = scalar(n.get(), child(key)).orElse("");
    try {
      long parsed = Long.parseLong(v.trim());
      if (parsed < min || parsed > max) {
        errors.add(
            n.get(),
            child(key),
            parsed + " is out of range",
            "use a whole number from " + min + " to " + max);
        return dflt;
      }
      return parsed;
    } catch (NumberFormatException e) {
      // Digits that do not fit a long are a number out of range, not a typo.
      boolean digits = v.trim().matches("-?\\d+");
      errors.add(
          n.get(),
          child(key),
          digits ? v.trim() + " is out of range" : "\"" + v + "\" is not a whole number",
          "use a whole number from " + min + " to " + max);
      return dflt;
    }
  }

  /**
   * A size in bytes: a plain number, or with a unit (kB, MB, GB; powers of 1024 as PostgreSQL
   * does).
   */
  long bytes(String key, long dflt) {
    Optional<Node> n = get(key);
    if (n.isEmpty()) {
      return dflt;
    }
    String v = scalar(n.get(), child(key)).orElse("").trim();
    Matcher m = Pattern.compile("(\\d+)\\s*(|B|kB|MB|GB)").matcher(v);
    if (!m.matches()) {
      errors.add(
          n.get(),
          child(key),
          "\"" + v + "\" is not a size",
          "write bytes or a size like 16MB, 512kB, 1GB");
      return dflt;
    }
    long unit =
        switch (m.group(2)) {
          case "kB" -> 1024L;
          case "MB" -> 1024L * 1024;
          case "GB" -> 1024L * 1024 * 1024;
          default -> 1L;
        };
    try {
      return Math.multiplyExact(Long.parseLong(m.group(1)), unit);
    } catch (NumberFormatException | ArithmeticException e) {
      // Unchecked, 9999999999GB wrapped around to a negative limit that refused every failover.
      errors.add(
          n.get(),
          child(key),
          "\"" + v + "\" is too large (the limit is 8 EiB)",
          "write a smaller size, e.g. 16MB");
      return dflt;
    }
  }

  boolean bool(String key, boolean dflt) {
    Optional<Node> n = get(key);
    if (n.isEmpty()) {
      return dflt;
    }
    String v = scalar(n.get(), child(key)).orElse("");
    return switch (v.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on" -> true;
      case "false", "no", "off" -> false;
      default -> {
        errors.add(
            n.get(), child(key), "\"" + v + "\" is not true or false", "write true or false");
        yield dflt;
      }
    };
  }

  <E extends Enum<E>> E enumValue(String key, Class<E> type, E dflt) {
    Optional<Node> n = get(key);
    if (n.isEmpty()) {
      return dflt;
    }
    String v = scalar(n.get(), child(key)).orElse("");
    for (E e : type.getEnumConstants()) {
      if (e.name().replace('_', '-').equalsIgnoreCase(v)) {
        return e;
      }
    }
    List<String> names = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      names.add(e.name().replace('_', '-').toLowerCase(Locale.ROOT));
    }
    errors.add(
        n.get(),
        child(key),
        "\"" + v + "\" is not one of " + names,
        "write one of " + String.join(", ", names));
    return dflt;
  }

  Optional<URI> uri(String key) {
    Optional<String> v = optionalString(key);
    if (v.isEmpty()) {
      return Optional.empty();
    }
    try {
      URI uri = URI.create(v.get());
      if (uri.getScheme() == null || uri.getHost() == null) {
        throw new IllegalArgumentException("no scheme or host");
      }
      return Optional.of(uri);
    } catch (IllegalArgumentException e) {
      errors.add(
          byKey.get(key).getValueNode(),
          child(key),
          "\"" + v.get() + "\" is not a URL",
          "write it like http://127.0.0.1:5000");
      return Optional.empty();
    }
  }

  YamlFields object(String key) {
    return new YamlFields(get(key).orElse(null), child(key), errors);
  }

  /**
   * The items of a sequence; each function call gets the item node and its path like {@code
   * nodes[0]}.
   */
  <T> List<T> list(String key, boolean required, String fix, Function<Item, T> each) {
    Optional<Node> n = get(key);
    List<T> out = new ArrayList<>();
    if (n.isEmpty()) {
      if (required) {
        missing(key, fix);
      }
      return out;
    }
    if (!(n.get() instanceof SequenceNode seq)) {
      errors.add(n.get(), child(key), "must be a list", fix);
      return out;
    }
    List<Node> items = seq.getValue();
    for (int i = 0; i < items.size(); i++) {
      out.add(each.apply(new Item(items.get(i), child(key) + "[" + i + "]")));
    }
    return out;
  }

  record Item(Node node, String path) {}

  /** Reports every key nobody asked for, with the closest known key as the likely fix. */
  void rejectUnknown() {
    for (Map.Entry<String, NodeTuple> e : byKey.entrySet()) {
      if (!read.contains(e.getKey())) {
        String near = closest(e.getKey(), read);
        errors.add(
            e.getValue().getKeyNode(),
            child(e.getKey()),
            "unknown key",
            near == null
                ? "remove it; known keys here: " + String.join(", ", read)
                : "did you mean " + near + "? Known keys here: " + String.join(", ", read));
      }
    }
  }

  Errors errors() {
    return errors;
  }

  String path() {
    return path;
  }

  Optional<String> scalar(Node n, String at) {
    if (n instanceof ScalarNode s) {
      return Optional.of(s.getValue());
    }
    errors.add(
        n,
        at,
        "must be a single value, not a " + (n instanceof SequenceNode ? "list" : "mapping"),
        "write " + at.substring(at.lastIndexOf('.') + 1) + ": value");
    return Optional.empty();
  }

  static boolean isNull(Node n) {
    return n instanceof ScalarNode s && Tag.NULL.equals(s.getTag());
  }

  private static String closest(String key, java.util.Collection<String> known) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : known) {
      int d = editDistance(key.toLowerCase(Locale.ROOT), k.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return bestDistance <= Math.max(2, key.length() / 3) ? best : null;
  }

  private static int editDistance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
