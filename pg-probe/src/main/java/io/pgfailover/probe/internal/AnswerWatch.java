package io.pgfailover.probe.internal;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.SocketFactory;

/**
 * Notes whether, and when last, the server sent anything on a probe's connection. A probe that
 * timed out after the server answered met a live server on a slow path ({@code SLOW}); one that
 * heard nothing met a frozen, cut-off or crashed host ({@code TIMEOUT}). The driver instantiates
 * this factory by class name ({@code socketFactory}) with the connection's watch id ({@code
 * socketFactoryArg}).
 */
public final class AnswerWatch extends SocketFactory {
  private static final Map<String, Heard> WATCHES = new ConcurrentHashMap<>();

  private final Heard heard;

  /** What one connection heard: whether anything, and when last (System.nanoTime). */
  private static final class Heard {
    private volatile boolean any;
    private volatile long last;

    void now() {
      last = System.nanoTime();
      any = true;
    }
  }

  /** Called by the driver, by reflection, with the id from {@link #open}. */
  public AnswerWatch(String id) {
    Heard h = WATCHES.get(id);
    // A watch already closed (the probe gave up while the driver was starting): nobody reads it.
    this.heard = h != null ? h : new Heard();
  }

  /** One connection's watch: its id goes into the driver's properties; close it when done. */
  public static final class Handle implements AutoCloseable {
    private final String id = UUID.randomUUID().toString();
    private final Heard heard = new Heard();

    private Handle() {
      WATCHES.put(id, heard);
    }

    public String id() {
      return id;
    }

    /** Whether the server has sent at least one byte on this connection. */
    public boolean answered() {
      return heard.any;
    }

    /** When (System.nanoTime) the server last sent bytes on this connection; empty if never. */
    public OptionalLong lastAnswerNanos() {
      return heard.any ? OptionalLong.of(heard.last) : OptionalLong.empty();
    }

    @Override
    public void close() {
      WATCHES.remove(id);
    }
  }

  public static Handle open() {
    return new Handle();
  }

  @Override
  public Socket createSocket() {
    return new Watched(heard);
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return createSocket(InetAddress.getByName(host), port);
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    throw new UnsupportedOperationException("the driver connects an unconnected socket");
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    Socket s = createSocket();
    s.connect(new java.net.InetSocketAddress(host, port));
    return s;
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    throw new UnsupportedOperationException("the driver connects an unconnected socket");
  }

  private static final class Watched extends Socket {
    private final Heard heard;

    Watched(Heard heard) {
      this.heard = heard;
    }

    @Override
    public InputStream getInputStream() throws IOException {
      return new FilterInputStream(super.getInputStream()) {
        @Override
        public int read() throws IOException {
          int b = super.read();
          if (b >= 0) {
            heard.now();
          }
          return b;
        }

        @Override
        public int read(byte[] buf, int off, int len) throws IOException {
          int n = super.read(buf, off, len);
          if (n > 0) {
            heard.now();
          }
          return n;
        }
      };
    }
  }
}
