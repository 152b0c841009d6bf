package io.pgfailover.controller.events;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Set;

/**
 * The one actor on this host: an exclusive lock on a file beside the event history ({@code
 * PATH.lock}), held by the daemon for its lifetime and by a command that acts directly (no daemon)
 * while it runs. A second actor is refused instead of acting beside the first. The operating system
 * drops the lock when its process dies, however it dies, so a crash never leaves it stuck.
 *
 * <p>The file names the holder (process id, command, since when) so that the refusal can say who
 * holds it. File locks belong to the process: a second acquisition in the same JVM is refused too.
 */
public final class ActorLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private ActorLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Refused: another process (or this one) already acts from this host. */
  public static final class HeldException extends Exception {
    HeldException(String message) {
      super(message);
    }
  }

  /**
   * Takes the lock without waiting.
   *
   * @param command what the holder is, for the refusal message of the next one (e.g. "failoverctl
   *     run")
   * @throws HeldException when another actor holds it
   * @throws IOException when the file cannot be created or locked at all
   */
  public static ActorLock acquire(Path file, String command) throws HeldException, IOException {
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    FileChannel ch =
        FileChannel.open(
            file,
            Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE),
            EventLog.OWNER_ONLY_FILE);
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
    if (lock == null) {
      String holder = holder(ch);
      ch.close();
      throw new HeldException(
          "another controller is acting from this host: "
              + file
              + " is locked"
              + (holder.isEmpty() ? "" : " by " + holder)
              + ". Only one of the daemon (failoverctl run) and a direct failover, switchover"
              + " may act at a time. Check: systemctl status pgfailover; ps -fp PID. If the"
              + " daemon runs, let it act: its admin API takes failover and switchover.");
    }
    ch.truncate(0);
    ch.write(
        ByteBuffer.wrap(
            ("pid "
                    + ProcessHandle.current().pid()
                    + " ("
                    + command
                    + ") since "
                    + Instant.now()
                    + "\n")
                .getBytes(StandardCharsets.UTF_8)),
        0);
    return new ActorLock(ch, lock);
  }

  private static String holder(FileChannel ch) {
    try {
      ByteBuffer buf = ByteBuffer.allocate(512);
      ch.read(buf, 0);
      return new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      return "";
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
