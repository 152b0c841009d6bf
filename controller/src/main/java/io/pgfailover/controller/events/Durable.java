package io.pgfailover.controller.events;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/** Writes that survive a crash of the host: fsync of the file, then of the directory. */
public final class Durable {
  private Durable() {}

  /** Something done to the new file before it takes the old one's place (a chown). */
  public interface BeforeRename {
    void apply(Path newFile) throws IOException;
  }

  /**
   * Replaces {@code file} with {@code content} (mode 0600) so that a reader sees the old or the new
   * content, never a mix: a temporary file beside it, forced, renamed over it, and the directory
   * forced so that the rename itself survives.
   */
  public static void replace(Path file, byte[] content) throws IOException {
    replace(file, content, tmp -> {});
  }

  /** As {@link #replace(Path, byte[])}, applying {@code prepare} to the new file first. */
  public static void replace(Path file, byte[] content, BeforeRename prepare) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    // A leftover from a crash may have other permissions: start from a fresh file.
    Files.deleteIfExists(tmp);
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
            EventLog.OWNER_ONLY_FILE)) {
      ByteBuffer buf = ByteBuffer.wrap(content);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    prepare.apply(tmp);
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    syncDirectory(file);
  }

  /** Forces the directory holding {@code file}, so that a rename or creation in it is on disk. */
  public static void syncDirectory(Path file) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }
}
