package io.pgfailover.testsupport.pg;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes clusters left behind by a JVM that died without cleaning up (SIGKILL, OOM, a killed
 * build). Each cluster directory records its owner JVM (PID and start time); clusters of a live JVM
 * are left alone, so two builds sharing a working directory do not kill each other's servers.
 */
final class StaleClusters {

  private static final Logger log = LoggerFactory.getLogger(StaleClusters.class);
  private static final String OWNER_FILE = "owner";

  private StaleClusters() {}

  static void writeOwner(Path clusterDir) throws IOException {
    ProcessHandle self = ProcessHandle.current();
    Files.writeString(
        clusterDir.resolve(OWNER_FILE),
        self.pid() + " " + self.info().startInstant().map(Instant::toString).orElse("?") + "\n");
  }

  static void sweep(Path clustersRoot) {
    if (!Files.isDirectory(clustersRoot)) {
      return;
    }
    try (Stream<Path> dirs = Files.list(clustersRoot)) {
      for (Path cluster : dirs.filter(Files::isDirectory).toList()) {
        if (ownerAlive(cluster)) {
          continue;
        }
        killPostmasters(cluster);
        PostgresPair.deleteRecursively(cluster);
        log.info("event=pg_stale_cluster_removed dir={}", cluster);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot sweep stale clusters in " + clustersRoot, e);
    }
  }

  private static boolean ownerAlive(Path cluster) {
    try {
      String[] owner = Files.readString(cluster.resolve(OWNER_FILE)).trim().split(" ");
      long pid = Long.parseLong(owner[0]);
      if (pid == ProcessHandle.current().pid()) {
        return true; // a pair of this JVM, still in use
      }
      Optional<ProcessHandle> handle = ProcessHandle.of(pid);
      return handle.isPresent()
          && handle.get().info().startInstant().map(Instant::toString).orElse("?").equals(owner[1]);
    } catch (IOException | RuntimeException e) {
      return false; // no or unreadable owner file: a half-created cluster of a dead JVM
    }
  }

  /**
   * Kills postmasters (and their children) whose postmaster.pid names a data directory of this
   * cluster.
   */
  private static void killPostmasters(Path cluster) throws IOException {
    try (Stream<Path> dataDirs = Files.list(cluster)) {
      for (Path dataDir : dataDirs.filter(Files::isDirectory).toList()) {
        Path pidFile = dataDir.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
          continue;
        }
        long pid;
        try {
          pid =
              Long.parseLong(Files.readAllLines(pidFile, StandardCharsets.US_ASCII).get(0).trim());
        } catch (RuntimeException e) {
          continue; // a torn pid file: the server never got far enough to listen
        }
        // The PID may have been reused by an unrelated process since: only kill a postgres on this
        // data dir.
        boolean ours =
            Procs.cmdline(pid).filter(cmd -> cmd.contains(dataDir.toString())).isPresent();
        if (!ours || !Procs.isRunning(pid)) {
          continue;
        }
        List<Long> all = new ArrayList<>(List.of(pid));
        all.addAll(Procs.children(pid));
        ProcessLauncher.signal("KILL", all);
        io.pgfailover.testsupport.Waits.until(
            "stale postmaster " + pid + " to exit",
            java.time.Duration.ofSeconds(30),
            () -> all.stream().noneMatch(Procs::isRunning));
        log.info("event=pg_stale_postmaster_killed pid={} data_dir={}", pid, dataDir);
      }
    }
  }
}
