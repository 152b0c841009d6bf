package io.pgfailover.controller.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only event history: one JSON object per line, one line per decision and per action
 * (before and after). Written before the matching log line returns, so a controller killed
 * mid-failover leaves a record of how far it got.
 */
public final class EventLog {
  private static final Logger log = LoggerFactory.getLogger(EventLog.class);
  static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
          .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  private final Path file;
  private final Clock clock;
  private final String cluster;

  /**
   * Fields written into every event after {@code event}: the controller pair's fencing token and
   * role.
   */
  private volatile java.util.function.Supplier<Map<String, ?>> annotations = Map::of;

  public EventLog(Path file, Clock clock, String cluster) {
    this.file = file;
    this.clock = clock;
    this.cluster = cluster;
    try {
      Path dir = file.toAbsolutePath().getParent();
      if (dir != null) {
        Files.createDirectories(dir);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot create the event log's directory for " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * Adds fields to every event from now on (the lease's fencing token); the supplier must not
   * block.
   */
  public void annotate(java.util.function.Supplier<Map<String, ?>> fields) {
    this.annotations = fields;
  }

  /** Appends one event; {@code fields} are written in order after ts, cluster and event. */
  public synchronized void append(String event, Map<String, ?> fields) {
    ObjectNode line = JSON.createObjectNode();
    line.put("ts", clock.instant().toString());
    line.put("cluster", cluster);
    line.put("event", event);
    annotations.get().forEach((k, v) -> line.set(k, JSON.valueToTree(v)));
    fields.forEach((k, v) -> line.set(k, JSON.valueToTree(v)));
    try {
      Files.write(
          file,
          (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8),
          StandardOpenOption.CREATE,
          StandardOpenOption.APPEND,
          StandardOpenOption.WRITE);
    } catch (IOException e) {
      // Losing history must not stop a failover; the log line still tells the story.
      log.error("event=event_log_write_failed file={} error=\"{}\"", file, e.getMessage());
    }
  }

  /** The last {@code n} events, oldest first. Reads only the file's tail. */
  public List<JsonNode> tail(int n) {
    return tail(file, n);
  }

  public static List<JsonNode> tail(Path file, int n) {
    if (!Files.exists(file)) {
      return List.of();
    }
    List<String> lines = new ArrayList<>();
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      long pos = f.length();
      StringBuilder current = new StringBuilder();
      byte[] buf = new byte[8192];
      while (pos > 0 && lines.size() <= n) {
        int len = (int) Math.min(buf.length, pos);
        pos -= len;
        f.seek(pos);
        f.readFully(buf, 0, len);
        // Walk backwards, cutting at newlines; bytes are reversed per line and restored below.
        for (int i = len - 1; i >= 0; i--) {
          if (buf[i] == '\n') {
            if (current.length() > 0) {
              lines.add(current.reverse().toString());
              current.setLength(0);
            }
          } else {
            current.append((char) (buf[i] & 0xff));
          }
        }
      }
      if (current.length() > 0 && lines.size() <= n) {
        lines.add(current.reverse().toString());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<JsonNode> out = new ArrayList<>();
    for (String raw : lines.subList(0, Math.min(n, lines.size()))) {
      try {
        out.add(
            JSON.readTree(
                new String(raw.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8)));
      } catch (IOException e) {
        // A torn last line (killed mid-write) is skipped, not fatal.
      }
    }
    Collections.reverse(out);
    return out;
  }

  public Path file() {
    return file;
  }
}
