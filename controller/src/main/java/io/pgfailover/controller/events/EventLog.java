package io.pgfailover.controller.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.controller.config.EventLogConfig;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only event history: one JSON object per line, one line per decision and per action
 * (before and after). Written before the matching log line returns, so a controller killed
 * mid-failover leaves a record of how far it got.
 *
 * <p>Writes survive a full disk: a write that fails may leave part of a line behind, so the next
 * event starts on a line of its own and only the torn fragment is lost. Action events are forced to
 * disk before the action runs. The file rotates by size ({@link EventLogConfig}) and is readable by
 * its owner only. Reads of the tail are bounded in line length and in total bytes.
 */
public final class EventLog {
  private static final Logger log = LoggerFactory.getLogger(EventLog.class);
  static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new com.fasterxml.jackson.datatype.jsr310.JavaTimeModule())
          .disable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);

  /** The longest event a reader accepts; a longer line is skipped without being held in memory. */
  public static final int MAX_LINE_BYTES = 64 * 1024;

  /** The most bytes one read of the tail goes through, rotated files included. */
  public static final long MAX_TAIL_BYTES = 8L * 1024 * 1024;

  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY_FILE =
      PosixFilePermissions.asFileAttribute(OWNER_ONLY);

  private final EventLogConfig config;
  private final Path file;
  private final Clock clock;
  private final String cluster;

  /**
   * The file may end in part of a line (a write that failed half way, a crash): the next event
   * starts with a newline so that it is not glued onto that fragment.
   */
  private boolean midLine;

  private boolean permissionsChecked;
  private boolean rotationFailing;

  /**
   * Fields written into every event after {@code event}: the controller pair's fencing token and
   * role.
   */
  private volatile java.util.function.Supplier<Map<String, ?>> annotations = Map::of;

  /** Told of every event once it is written (see {@link #subscribe}). */
  private final List<java.util.function.Consumer<ObjectNode>> subscribers =
      new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A history at {@code file} with the default rotation. */
  public EventLog(Path file, Clock clock, String cluster) {
    this(EventLogConfig.of(file), clock, cluster);
  }

  public EventLog(EventLogConfig config, Clock clock, String cluster) {
    this.config = config;
    this.file = config.path();
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
    this.midLine = endsMidLine(file);
  }

  /**
   * Adds fields to every event from now on (the lease's fencing token); the supplier must not
   * block.
   */
  public void annotate(java.util.function.Supplier<Map<String, ?>> fields) {
    this.annotations = fields;
  }

  /**
   * Tells {@code subscriber} of every event after it was written to the history (the notifications
   * follow the history, never run ahead of it). It runs on the appending thread, the control loop's
   * among them, inside the history's lock: it must hand the event on and return, never block or
   * write to this history.
   */
  public void subscribe(java.util.function.Consumer<ObjectNode> subscriber) {
    subscribers.add(subscriber);
  }

  /**
   * Whether an event is forced to disk before {@link #append} returns: the record of an action must
   * outlive a crash of the host during that action.
   */
  static boolean durable(String event) {
    return event.startsWith("action_") || event.equals("failover_timeline");
  }

  /** Appends one event; {@code fields} are written in order after ts, cluster and event. */
  public synchronized void append(String event, Map<String, ?> fields) {
    ObjectNode line = JSON.createObjectNode();
    line.put("ts", clock.instant().toString());
    line.put("cluster", cluster);
    line.put("event", event);
    annotations.get().forEach((k, v) -> line.set(k, JSON.valueToTree(v)));
    fields.forEach((k, v) -> line.set(k, JSON.valueToTree(v)));
    byte[] bytes;
    try {
      bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      rotateIfFull(bytes.length);
      rotationFailing = false;
    } catch (IOException e) {
      // The event still goes into the current file; said once until rotation works again.
      if (!rotationFailing) {
        log.error(
            "event=event_log_rotation_failed file={} error={}", file, LogText.quoted(e.toString()));
      }
      rotationFailing = true;
    }
    try {
      write(bytes, durable(event));
    } catch (IOException e) {
      // Losing history must not stop a failover; the log line still tells the story. Part of the
      // line may be on disk, so the next event starts on a new line.
      midLine = true;
      log.error(
          "event=event_log_write_failed file={} event={} error={}",
          file,
          event,
          LogText.quoted(e.toString()));
    }
    // After the write attempt: a full disk must not also silence the page about the failover.
    for (var subscriber : subscribers) {
      try {
        subscriber.accept(line.deepCopy());
      } catch (RuntimeException e) {
        log.error(
            "event=event_subscriber_bug event={} error={}", event, LogText.quoted(e.toString()));
      }
    }
  }

  private void write(byte[] line, boolean force) throws IOException {
    try (FileChannel ch =
        FileChannel.open(
            file,
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND),
            OWNER_ONLY_FILE)) {
      ownerOnly();
      ByteBuffer buf = ByteBuffer.allocate(line.length + 1);
      if (midLine) {
        buf.put((byte) '\n');
      }
      buf.put(line).flip();
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      if (force) {
        ch.force(false);
      }
    }
    midLine = false;
  }

  /**
   * A history written by an older version may be readable by others: the first write fixes that, if
   * this user may (a failure to do so must not cost the event).
   */
  private void ownerOnly() {
    if (permissionsChecked) {
      return;
    }
    permissionsChecked = true;
    try {
      if (!Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
        Files.setPosixFilePermissions(file, OWNER_ONLY);
        log.info("event=event_log_permissions_fixed file={} mode=0600", file);
      }
    } catch (IOException e) {
      log.warn(
          "event=event_log_permissions_unfixed file={} error=\"{}\" fix=\"chmod 600 {}\"",
          file,
          e.getMessage(),
          file);
    }
  }

  /** Before a write that would take the active file past the limit: shift the rotated files. */
  private void rotateIfFull(int nextBytes) throws IOException {
    long size = Files.exists(file) ? Files.size(file) : 0;
    if (size == 0 || size + nextBytes + 1 <= config.maxFileBytes()) {
      return;
    }
    Files.deleteIfExists(config.rotated(config.keepFiles()));
    for (int i = config.keepFiles() - 1; i >= 1; i--) {
      if (Files.exists(config.rotated(i))) {
        Files.move(config.rotated(i), config.rotated(i + 1), StandardCopyOption.ATOMIC_MOVE);
      }
    }
    Files.move(file, config.rotated(1), StandardCopyOption.ATOMIC_MOVE);
    Durable.syncDirectory(file);
    midLine = false;
    permissionsChecked = false;
    log.info(
        "event=event_log_rotated file={} rotated_bytes={} kept={}", file, size, config.keepFiles());
  }

  private static boolean endsMidLine(Path file) {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
      if (f.length() == 0) {
        return false;
      }
      f.seek(f.length() - 1);
      return f.read() != '\n';
    } catch (java.io.FileNotFoundException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  /**
   * What a bounded read of the history's tail found.
   *
   * @param events the newest events, oldest first
   * @param skipped lines that were not an event: torn, unparsable, or longer than {@link
   *     #MAX_LINE_BYTES}
   * @param budgetSpent the read stopped at {@link #MAX_TAIL_BYTES} before finding enough events
   */
  public record Tail(List<JsonNode> events, int skipped, boolean budgetSpent) {
    public Tail {
      events = List.copyOf(events);
    }
  }

  /** The last {@code n} events, oldest first. Reads only the tail, rotated files included. */
  public List<JsonNode> tail(int n) {
    return readTail(file, n).events();
  }

  public static List<JsonNode> tail(Path file, int n) {
    return readTail(file, n).events();
  }

  /** As {@link #tail(int)}, also saying what was skipped. */
  public Tail readTail(int n) {
    return readTail(file, n);
  }

  /**
   * Reads backwards from the end of the active file, then the rotated ones (PATH.1, PATH.2, …),
   * until {@code n} events or {@link #MAX_TAIL_BYTES} read, holding at most one line of {@link
   * #MAX_LINE_BYTES}.
   */
  public static Tail readTail(Path file, int n) {
    TailReader reader = new TailReader(n);
    List<Path> files = new ArrayList<>(List.of(file));
    for (int i = 1; i <= EventLogConfig.MAX_KEEP_FILES; i++) {
      Path rotated = EventLogConfig.of(file).rotated(i);
      if (!Files.exists(rotated)) {
        break;
      }
      files.add(rotated);
    }
    for (Path f : files) {
      if (reader.done()) {
        break;
      }
      try {
        reader.read(f);
      } catch (java.io.FileNotFoundException e) {
        // Rotated away while we read: the next file holds what it had.
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    List<JsonNode> out = new ArrayList<>(reader.newestFirst);
    Collections.reverse(out);
    return new Tail(out, reader.skipped, reader.budget <= 0 && out.size() < n);
  }

  /** One backwards pass over files, newest first, sharing one byte budget and one line buffer. */
  private static final class TailReader {
    private final int wanted;
    private final List<JsonNode> newestFirst = new ArrayList<>();
    private final byte[] line = new byte[MAX_LINE_BYTES];
    private int lineLength;
    private boolean overlong;
    private int skipped;
    private long budget = MAX_TAIL_BYTES;

    TailReader(int wanted) {
      this.wanted = wanted;
    }

    boolean done() {
      return newestFirst.size() >= wanted || budget <= 0;
    }

    void read(Path file) throws IOException {
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
        long pos = f.length();
        byte[] buf = new byte[64 * 1024];
        lineLength = 0;
        overlong = false;
        while (pos > 0 && !done()) {
          int len = (int) Math.min(Math.min(buf.length, pos), budget);
          pos -= len;
          budget -= len;
          f.seek(pos);
          f.readFully(buf, 0, len);
          // Walk backwards, filling the line buffer from its end so that no reversal is needed.
          for (int i = len - 1; i >= 0 && newestFirst.size() < wanted; i--) {
            if (buf[i] == '\n') {
              endOfLine();
            } else if (lineLength < MAX_LINE_BYTES) {
              line[MAX_LINE_BYTES - 1 - lineLength++] = buf[i];
            } else {
              overlong = true;
            }
          }
        }
        if (pos == 0 && newestFirst.size() < wanted) {
          endOfLine();
        }
      }
    }

    private void endOfLine() {
      if (overlong) {
        skipped++;
      } else if (lineLength > 0) {
        try {
          JsonNode event = JSON.readTree(line, MAX_LINE_BYTES - lineLength, lineLength);
          if (event != null && event.isObject()) {
            newestFirst.add(event);
          } else {
            skipped++;
          }
        } catch (IOException e) {
          skipped++;
        }
      }
      lineLength = 0;
      overlong = false;
    }
  }

  public Path file() {
    return file;
  }

  public EventLogConfig config() {
    return config;
  }
}
