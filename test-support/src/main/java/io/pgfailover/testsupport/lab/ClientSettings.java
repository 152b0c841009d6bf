package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.pg.PostgresPair;
import java.util.Locale;
import java.util.Properties;

/**
 * What an application sets on its PostgreSQL connections to see the failover figures of one
 * settings profile: the one definition the benchmark's and the demo's clients use and the README's
 * client guidance prints (a test keeps them equal).
 *
 * <p>Why they matter: the route moves within milliseconds of the promotion, but a client only
 * notices when it gives up on the old primary. A statement in flight to a cut-off or frozen primary
 * waits for TCP's retransmissions (minutes) unless {@code socketTimeout} (pgjdbc) or {@code
 * tcp_user_timeout} (libpq) ends it; a connection attempt sent down the old path waits out {@code
 * connectTimeout} / {@code connect_timeout}, and a login to a frozen server {@code loginTimeout}.
 * So each of them adds up to its own value to the outage the controller's detection leaves. The
 * client's attempts after the fault fall on a grid of its timeouts (pgjdbc counts whole seconds):
 * at {@code default} the statement gives up at 2 s and a new attempt follows every second, so a
 * failover finished before 3 s is seen at ≈ 3 s; with a 2 s login timeout an attempt to a frozen
 * primary (whose kernel still accepts TCP) held the client until 4 s. Keepalives find an idle
 * pooled connection to a dead primary, and {@code targetServerType=primary} / {@code
 * target_session_attrs=read-write} refuse a server that is not the primary (e.g. an old primary
 * restarted read-only behind a stale route).
 *
 * @param loginSeconds pgjdbc's {@code connectTimeout} and {@code loginTimeout}, in whole seconds
 *     (its unit)
 * @param socketSeconds pgjdbc's {@code socketTimeout}: a statement in flight gives up after it
 * @param connectTimeoutSeconds libpq's {@code connect_timeout}; libpq treats values below 2 as 2
 * @param tcpUserTimeoutMs libpq's {@code tcp_user_timeout}: how long sent data may stay
 *     unacknowledged before the connection is dropped
 * @param keepalivesIdle libpq's {@code keepalives_idle}, seconds
 * @param keepalivesInterval libpq's {@code keepalives_interval}, seconds
 * @param keepalivesCount libpq's {@code keepalives_count}
 */
public record ClientSettings(
    String profile,
    int loginSeconds,
    int socketSeconds,
    int connectTimeoutSeconds,
    int tcpUserTimeoutMs,
    int keepalivesIdle,
    int keepalivesInterval,
    int keepalivesCount) {

  /** For the shipped controller settings (probe 1 s / 1 s / 3, witness 5 s). */
  public static final ClientSettings DEFAULT =
      new ClientSettings("default", 1, 2, 2, 2000, 5, 2, 2);

  /** For the fast controller settings (probe 500 ms / 500 ms / 2, witness 1 s). */
  public static final ClientSettings FAST = new ClientSettings("fast", 1, 1, 2, 1000, 2, 1, 2);

  public static ClientSettings of(String profile) {
    return switch (profile.toLowerCase(Locale.ROOT)) {
      case "default" -> DEFAULT;
      case "fast" -> FAST;
      default ->
          throw new IllegalArgumentException(
              "unknown settings profile " + profile + ": use default or fast");
    };
  }

  /** The pgjdbc connection properties, as an application sets them. */
  public Properties pgjdbc() {
    Properties p = new Properties();
    p.setProperty("connectTimeout", Integer.toString(loginSeconds));
    p.setProperty("loginTimeout", Integer.toString(loginSeconds));
    p.setProperty("socketTimeout", Integer.toString(socketSeconds));
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("targetServerType", "primary");
    return p;
  }

  /** The pgjdbc settings as URL parameters, as the README prints them. */
  public String pgjdbcUrlParameters() {
    return String.format(
        Locale.ROOT,
        "connectTimeout=%d&loginTimeout=%d&socketTimeout=%d&tcpKeepAlive=true"
            + "&targetServerType=primary",
        loginSeconds,
        loginSeconds,
        socketSeconds);
  }

  /** The libpq connection string keywords, as the README prints them. */
  public String libpq() {
    return String.format(
        Locale.ROOT,
        "connect_timeout=%d tcp_user_timeout=%d keepalives=1 keepalives_idle=%d"
            + " keepalives_interval=%d keepalives_count=%d target_session_attrs=read-write",
        connectTimeoutSeconds,
        tcpUserTimeoutMs,
        keepalivesIdle,
        keepalivesInterval,
        keepalivesCount);
  }

  /** The lab's superuser login with these settings: what the bench's and demo's clients use. */
  Properties labClient() {
    Properties p = pgjdbc();
    p.setProperty("user", PostgresPair.SUPERUSER);
    p.setProperty("password", PostgresPair.SUPERUSER_PASSWORD);
    return p;
  }

  /**
   * As {@link #labClient} but taking whichever server answers, standby included: for the checks
   * that look at who answers through the virtual IP, not for the application.
   */
  Properties labObserver() {
    Properties p = labClient();
    p.remove("targetServerType");
    return p;
  }
}
