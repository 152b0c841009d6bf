package io.pgfailover.controller.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.config.ConfigLoader;
import io.pgfailover.controller.events.ActorLock;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CLI never acts beside a daemon: only a refused connection on admin.listen means that no
 * daemon runs, and then the host's actor lock still has the last word.
 */
class AdminClientTest {
  @TempDir Path dir;

  /** What a daemon in trouble (or anything else on its port) may do to a client. */
  enum Fault {
    /** Accepts and never answers: a daemon whose handler threads are all held. */
    SILENT,
    /** Resets the connection. */
    RESET,
    /** Answers with something that is not HTTP. */
    NOT_HTTP,
    /** Answers every request with HTTP 500. */
    SERVER_ERROR
  }

  @ParameterizedTest
  @EnumSource(Fault.class)
  void everyFailureButARefusedConnectionRefusesTheCommand(Fault fault) throws Exception {
    try (BrokenDaemon daemon = new BrokenDaemon(fault)) {
      Path config = config(daemon.port());
      for (List<String> command :
          List.of(
              List.of("failover", "--to", "pg-b"),
              List.of("switchover", "--to", "pg-b"),
              List.of("status"))) {
        Cli r = cli(config, command);
        String what = fault + " " + command + ":\n" + r.out + r.err;
        assertEquals(ExitCodes.FAILED, r.code, what);
        assertTrue(
            r.err.contains(
                "failoverctl "
                    + command.get(0)
                    + ": the daemon's admin API on 127.0.0.1:"
                    + daemon.port()
                    + " did not answer"),
            what);
        assertTrue(r.err.contains("A daemon may be running there, so nothing was done"), what);
        assertTrue(r.err.contains("ss -ltnp 'sport = :" + daemon.port() + "'"), what);
        assertEquals("", r.out, what);
      }
    }
  }

  @Test
  void withNothingListeningTheCommandActsOnlyIfNoOtherActorHoldsTheHostsLock() throws Exception {
    int closed;
    try (ServerSocket s = new ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    Path config = config(closed);
    Path lock = ConfigLoader.load(config).eventLog().lockFile();
    // The daemon holds it for its lifetime (here: this JVM, as a second holder would be refused
    // across processes too; OneActorIT shows that).
    try (ActorLock daemon = ActorLock.acquire(lock, "run")) {
      for (List<String> command :
          List.of(List.of("failover", "--to", "pg-b"), List.of("switchover", "--to", "pg-b"))) {
        Cli r = cli(config, command);
        assertEquals(ExitCodes.FAILED, r.code, r.out + r.err);
        assertTrue(
            r.err.contains(
                "failoverctl "
                    + command.get(0)
                    + ": another controller is acting from this host: "
                    + lock
                    + " is locked by pid "),
            r.err);
        assertEquals("", r.out);
      }
    }
  }

  private Path config(int adminPort) throws IOException {
    Path token = Files.writeString(dir.resolve("admin-token"), "0123456789abcdef0123");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    int awsPort;
    try (ServerSocket s = new ServerSocket(0)) {
      awsPort = s.getLocalPort();
    }
    return Files.writeString(
        dir.resolve("controller.yaml"),
        String.join(
            "\n",
            "cluster: c",
            "aws: {region: us-east-1, endpoint: 'http://127.0.0.1:" + awsPort + "'}",
            "virtualIp: 172.31.255.10/32",
            "routeTables: [rtb-0123456789abcdef0]",
            "nodes:",
            "  - {name: pg-a, instanceId: i-0123456789abcdef0, eniId: eni-0123456789abcdef0,",
            "     host: 127.0.0.1, port: " + awsPort + ", user: u}",
            "  - {name: pg-b, instanceId: i-0123456789abcdef1, eniId: eni-0123456789abcdef1,",
            "     host: 127.0.0.1, port: " + awsPort + ", user: u}",
            "admin: {listen: '127.0.0.1:" + adminPort + "', tokenFile: " + token + "}",
            "eventLog: " + dir.resolve("state/events.jsonl"),
            ""));
  }

  record Cli(int code, String out, String err) {}

  private static Cli cli(Path config, List<String> command) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    String[] args =
        java.util.stream.Stream.concat(
                command.stream(), java.util.stream.Stream.of("-c", config.toString()))
            .toArray(String[]::new);
    int code = Failoverctl.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
    return new Cli(code, out.toString(), err.toString());
  }

  /** A listener on admin.listen that fails every client in one way. */
  private static final class BrokenDaemon implements AutoCloseable {
    private final ServerSocket server = new ServerSocket(0);
    private final List<Socket> open = new CopyOnWriteArrayList<>();
    private final Thread acceptor;

    BrokenDaemon(Fault fault) throws IOException {
      acceptor =
          new Thread(
              () -> {
                while (!server.isClosed()) {
                  try {
                    Socket s = server.accept();
                    open.add(s);
                    Thread t = new Thread(() -> serve(fault, s), "broken-daemon");
                    t.setDaemon(true);
                    t.start();
                  } catch (IOException e) {
                    return;
                  }
                }
              },
              "broken-daemon-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    int port() {
      return server.getLocalPort();
    }

    private static void serve(Fault fault, Socket s) {
      try (s) {
        InputStream in = s.getInputStream();
        if (!readHeaders(in)) {
          return; // a bare connect, as the client's first check makes
        }
        switch (fault) {
          case SILENT -> in.transferTo(java.io.OutputStream.nullOutputStream());
          case RESET -> s.setSoLinger(true, 0);
          case NOT_HTTP -> s.getOutputStream().write("SSH-2.0-OpenSSH_9.2\r\n".getBytes());
          case SERVER_ERROR ->
              s.getOutputStream()
                  .write(
                      ("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n"
                              + "Connection: close\r\n\r\nbroke")
                          .getBytes(StandardCharsets.US_ASCII));
        }
      } catch (IOException e) {
        // the client went away
      }
    }

    /** Reads up to the end of the request's headers; false when the client closed first. */
    private static boolean readHeaders(InputStream in) throws IOException {
      int matched = 0;
      byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
      int b;
      while ((b = in.read()) != -1) {
        matched = b == end[matched] ? matched + 1 : (b == end[0] ? 1 : 0);
        if (matched == end.length) {
          return true;
        }
      }
      return false;
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (Socket s : open) {
        s.close();
      }
    }
  }
}
