package io.pgfailover.controller.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.pgfailover.controller.events.LogText;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JDK's HttpServer, hardened once for every API of this jar (the controller's admin API, the
 * node agent's API): exact paths, one method per endpoint, a bearer token from a file only its
 * owner can read, bounded request time and size, and client text escaped in logs.
 *
 * <p>A client cannot tie it up: a request must arrive whole (request line, headers, body) within
 * {@link #REQUEST_READ_SECONDS} or its connection is closed, headers and body are bounded in size,
 * and there are more handler threads than the few slow clients that would otherwise starve a health
 * check (each holds a thread only until its request times out).
 */
public final class BoundedHttpServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BoundedHttpServer.class);

  /**
   * A request must have arrived and been read whole within this (the server checks every second).
   * Our own clients send theirs at once.
   */
  public static final int REQUEST_READ_SECONDS = 5;

  /** The request line and headers together; ours are a few hundred bytes. */
  public static final int MAX_HEADER_BYTES = 8 * 1024;

  public static final int MAX_HEADERS = 32;
  public static final int MAX_BODY_BYTES = 64 * 1024;
  public static final int HANDLER_THREADS = 16;

  /** Beyond this a new connection is closed at once: bounds what slow clients can hold open. */
  public static final int MAX_CONNECTIONS = 64;

  /** Shorter tokens are refused: they guard promotion and the database's data directory. */
  public static final int MIN_TOKEN_CHARS = 16;

  static {
    // The JDK's HttpServer reads these once, when the first server is created
    // (sun.net.httpserver.ServerConfig, JDK 17): without them it has no time limit on reading a
    // request, so a client that trickles its headers holds a handler thread for ever.
    System.setProperty("sun.net.httpserver.maxReqTime", String.valueOf(REQUEST_READ_SECONDS));
    System.setProperty("sun.net.httpserver.maxReqHeaderSize", String.valueOf(MAX_HEADER_BYTES));
    System.setProperty("sun.net.httpserver.maxReqHeaders", String.valueOf(MAX_HEADERS));
    System.setProperty("jdk.httpserver.maxConnections", String.valueOf(MAX_CONNECTIONS));
    // A connection that sends nothing at all is closed by the idle check after maxReqTime; it runs
    // every 10 s unless told otherwise.
    System.setProperty("sun.net.httpserver.clockTick", "1000");
  }

  /**
   * One endpoint: a method on an exact path, whether it needs the bearer token, and its handler.
   *
   * @param tokenRequired without a configured token such an endpoint answers 403
   */
  public record Endpoint(String method, String path, boolean tokenRequired, HttpHandler handler) {}

  /** How a request ended, for an API that records every request (the node agent's). */
  public enum Outcome {
    /** Routed to its endpoint's handler, whatever status that answered. */
    SERVED,
    /** No such path (404) or the wrong method (405). */
    REFUSED,
    /** The bearer token was missing or wrong (401), or none is configured (403). */
    DENIED
  }

  /**
   * One finished request. {@code method} and {@code path} come from the client: log them with
   * {@link LogText#quoted}.
   */
  public record Request(
      String method, String path, int status, String remote, long elapsedMs, Outcome outcome) {}

  /** Told about every request once it was answered; must not throw. */
  public interface Listener {
    void answered(Request request);
  }

  private final String api;
  private final HttpServer server;
  private final ExecutorService handlers;
  private final Optional<byte[]> token;
  private final String noTokenError;

  /** By path, then by method. */
  private final Map<String, Map<String, Endpoint>> endpoints;

  private final Listener listener;

  /**
   * @param api names the API in log events ({@code admin_refused}, {@code agent_denied}) and
   *     threads
   * @param noTokenError the 403 answer to an endpoint that needs a token when none is configured
   */
  public BoundedHttpServer(
      String api,
      InetSocketAddress listen,
      Optional<byte[]> token,
      String noTokenError,
      List<Endpoint> endpoints,
      Listener listener)
      throws IOException {
    this.api = api;
    this.token = token;
    this.noTokenError = noTokenError;
    Map<String, Map<String, Endpoint>> byPath = new HashMap<>();
    for (Endpoint e : endpoints) {
      if (byPath.computeIfAbsent(e.path(), p -> new TreeMap<>()).put(e.method(), e) != null) {
        throw new IllegalArgumentException("two endpoints for " + e.method() + " " + e.path());
      }
    }
    this.endpoints = Map.copyOf(byPath);
    this.listener = listener;
    this.server =
        HttpServer.create(new InetSocketAddress(listen.getHostString(), listen.getPort()), 16);
    this.handlers =
        Executors.newFixedThreadPool(
            HANDLER_THREADS,
            r -> {
              Thread t = new Thread(r, api + "-http");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(handlers);
    // One context for every path: the JDK matches contexts by prefix, so "/statusXYZ" would be
    // served as "/status".
    server.createContext("/", this::route);
  }

  private void route(HttpExchange ex) throws IOException {
    long started = System.nanoTime();
    String path = ex.getRequestURI().getPath();
    Outcome outcome = Outcome.SERVED;
    try {
      Map<String, Endpoint> methods = endpoints.get(path);
      Endpoint e = methods == null ? null : methods.get(ex.getRequestMethod());
      if (e == null) {
        outcome = Outcome.REFUSED;
        refuse(ex, path, methods);
      } else if (e.tokenRequired() && !authorized(ex, path)) {
        outcome = Outcome.DENIED;
      } else {
        e.handler().handle(ex);
      }
    } finally {
      listener.answered(
          new Request(
              ex.getRequestMethod(),
              path,
              ex.getResponseCode(),
              String.valueOf(ex.getRemoteAddress()),
              (System.nanoTime() - started) / 1_000_000,
              outcome));
    }
  }

  private void refuse(HttpExchange ex, String path, Map<String, Endpoint> methods)
      throws IOException {
    int status = methods == null ? 404 : 405;
    // Both come from the client: quoted, so that a %0A in the path cannot start a log line.
    log.info(
        "event={}_refused status={} method={} path={} remote={}",
        api,
        status,
        LogText.quoted(ex.getRequestMethod()),
        LogText.quoted(path),
        ex.getRemoteAddress());
    if (methods == null) {
      send(ex, 404, "application/json", "{\"error\":\"no such endpoint\"}");
    } else {
      String allowed = String.join(", ", methods.keySet());
      ex.getResponseHeaders().set("Allow", allowed);
      send(ex, 405, "application/json", "{\"error\":\"use " + allowed + "\"}");
    }
  }

  /** Checks the bearer token in constant time; answers 403 or 401 itself when it fails. */
  private boolean authorized(HttpExchange ex, String path) throws IOException {
    if (token.isEmpty()) {
      send(ex, 403, "application/json", Json.error(noTokenError));
      return false;
    }
    String auth = Optional.ofNullable(ex.getRequestHeaders().getFirst("Authorization")).orElse("");
    byte[] given =
        auth.startsWith("Bearer ")
            ? auth.substring(7).strip().getBytes(StandardCharsets.UTF_8)
            : new byte[0];
    if (MessageDigest.isEqual(given, token.get())) {
      return true;
    }
    log.warn("event={}_denied path={} remote={}", api, LogText.quoted(path), ex.getRemoteAddress());
    send(ex, 401, "application/json", "{\"error\":\"missing or wrong bearer token\"}");
    return false;
  }

  /**
   * The request's JSON body ({@code {}} when empty), or empty after answering 413 (larger than
   * {@link #MAX_BODY_BYTES}) or 400 (not JSON) itself.
   */
  public static Optional<JsonNode> jsonBody(HttpExchange ex) throws IOException {
    try (InputStream in = ex.getRequestBody()) {
      byte[] raw = in.readNBytes(MAX_BODY_BYTES + 1);
      if (raw.length > MAX_BODY_BYTES) {
        send(
            ex,
            413,
            "application/json",
            "{\"error\":\"body is larger than " + MAX_BODY_BYTES + " bytes\"}");
        return Optional.empty();
      }
      return Optional.of(
          raw.length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(raw));
    } catch (IOException e) {
      send(ex, 400, "application/json", "{\"error\":\"body is not JSON\"}");
      return Optional.empty();
    }
  }

  public static void send(HttpExchange ex, int status, String type, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Reads a token file, refusing one that group or others can read, or a short token. */
  public static byte[] readToken(Path file) {
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      if (perms.stream()
          .anyMatch(p -> p.name().startsWith("GROUP") || p.name().startsWith("OTHERS"))) {
        throw new IllegalStateException(
            "token file " + file + " is readable by group or others; fix: chmod 600 " + file);
      }
      byte[] t = Files.readString(file).strip().getBytes(StandardCharsets.UTF_8);
      if (t.length < MIN_TOKEN_CHARS) {
        throw new IllegalStateException(
            "token in "
                + file
                + " is shorter than "
                + MIN_TOKEN_CHARS
                + " characters; fix: head -c 32 /dev/urandom | base64 > "
                + file);
      }
      return t;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read token file " + file + ": " + e.getMessage(), e);
    }
  }

  public void start() {
    server.start();
  }

  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    handlers.shutdownNow();
  }
}
