package io.pgfailover.controller.events;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;

/**
 * What a restarted controller must remember whatever became of the event history (rotated away,
 * damaged): the newest timeline a primary showed, and the node that showed it. Without it, a stale
 * primary that came back while the controller was down would look like the only primary. Kept in a
 * small file beside the event history ({@code PATH.state}), replaced atomically on every change.
 *
 * @param cluster the cluster it belongs to; a file of another cluster is refused
 * @param highestTimeline the newest timeline any primary has shown
 * @param lastPrimary the node that showed it
 */
public record ControllerState(String cluster, long highestTimeline, Optional<String> lastPrimary) {
  /** Far above what the file holds: a larger one is not ours. */
  private static final int MAX_BYTES = 64 * 1024;

  /**
   * The saved state, or empty when there is no file yet (first start, or an upgrade from a version
   * that kept only the event history).
   *
   * @throws IOException when a file exists but cannot be read or is not a state of {@code cluster}
   */
  public static Optional<ControllerState> read(Path file, String cluster) throws IOException {
    byte[] raw;
    try (InputStream in = Files.newInputStream(file)) {
      raw = in.readNBytes(MAX_BYTES + 1);
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    if (raw.length > MAX_BYTES) {
      throw new IOException("larger than " + MAX_BYTES + " bytes");
    }
    JsonNode doc;
    try {
      doc = EventLog.JSON.readTree(raw);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IOException("not JSON: " + e.getOriginalMessage(), e);
    }
    if (doc == null
        || !doc.path("highest_timeline").canConvertToLong()
        || doc.path("highest_timeline").asLong() < 0) {
      throw new IOException("no highest_timeline");
    }
    if (!cluster.equals(doc.path("cluster").asText())) {
      throw new IOException(
          "written for cluster \"" + doc.path("cluster").asText() + "\", not " + cluster);
    }
    return Optional.of(
        new ControllerState(
            cluster,
            doc.get("highest_timeline").asLong(),
            doc.hasNonNull("last_primary")
                ? Optional.of(doc.get("last_primary").asText())
                : Optional.empty()));
  }

  /** Replaces the file atomically (mode 0600); see {@link Durable#replace}. */
  public void write(Path file, Instant at) throws IOException {
    ObjectNode doc = EventLog.JSON.createObjectNode();
    doc.put("cluster", cluster);
    doc.put("highest_timeline", highestTimeline);
    lastPrimary.ifPresent(p -> doc.put("last_primary", p));
    doc.put("updated", at.toString());
    Durable.replace(file, (doc.toString() + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
