package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.pg.PostgresPair;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
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
 * client's attempts after the fault fall on a grid of its timeouts: at {@code default} its
 * statement gives up at 2 s and a new attempt follows every second, so a failover finished before 3
 * s is seen at ≈ 3 s; with a 2 s login timeout an attempt to a frozen primary (whose kernel still
 * accepts TCP) held the client until 4 s. At {@code fast} whole seconds were too coarse: the routes
 * switch 0.8–1.2 s after a cut, just after the attempt at ≈ 1.03 s, so a quarter-second grid
 * follows them within 0.27 s. pgjdbc's {@code loginTimeout} takes a decimal; {@code socketTimeout}
 * takes whole seconds only, so a sub-second statement bound is {@link
 * java.sql.Connection#setNetworkTimeout} on each connection. Keepalives find an idle pooled
 * connection to a dead primary, and {@code targetServerType=primary} / {@code
 * target_session_attrs=read-write} refuse a server that is not the primary (e.g. an old primary
 * restarted read-only behind a stale route).
 *
 * @param login pgjdbc's {@code loginTimeout} (the whole connection attempt, login included), and
 *     rounded up to whole seconds its {@code connectTimeout} (the TCP connect inside it)
 * @param statement how long a statement in flight waits for its answer: pgjdbc's {@code
 *     socketTimeout} when whole seconds, else {@code setNetworkTimeout} on top of a {@code
 *     socketTimeout} rounded up
 * @param connectTimeoutSeconds libpq's {@code connect_timeout}; libpq treats values below 2 as 2
 * @param tcpUserTimeoutMs libpq's {@code tcp_user_timeout}: how long sent data may stay
 *     unacknowledged before the connection is dropped
 * @param keepalivesIdle libpq's {@code keepalives_idle}, seconds
 * @param keepalivesInterval libpq's {@code keepalives_interval}, seconds
 * @param keepalivesCount libpq's {@code keepalives_count}
 */
public record ClientSettings(
    String profile,
    Duration login,
    Duration statement,
    int connectTimeoutSeconds,
    int tcpUserTimeoutMs,
    int keepalivesIdle,
    int keepalivesInterval,
    int keepalivesCount) {

  /** For the shipped controller settings (probe 1 s / 1 s / 3, witness 5 s). */
  public static final ClientSettings DEFAULT =
      new ClientSettings("default", Duration.ofSeconds(1), Duration.ofSeconds(2), 2, 2000, 5, 2, 2);

  /** For the fast controller settings (probe 500 ms / 500 ms / 2, witness 1 s). */
  public static final ClientSettings FAST =
      new ClientSettings("fast", Duration.ofMillis(250), Duration.ofMillis(250), 2, 1000, 2, 1, 2);

  public ClientSettings {
    if (login.toMillis() < 1 || statement.toMillis() < 1) {
      throw new IllegalArgumentException(
          "login and statement must be at least 1 ms: pgjdbc reads 0 as no timeout at all");
    }
  }

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
    p.setProperty("connectTimeout", Long.toString(wholeSeconds(login)));
    p.setProperty("loginTimeout", seconds(login));
    p.setProperty("socketTimeout", Long.toString(wholeSeconds(statement)));
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("targetServerType", "primary");
    return p;
  }

  /** The pgjdbc settings as URL parameters, as the README prints them. */
  public String pgjdbcUrlParameters() {
    return String.format(
        Locale.ROOT,
        "connectTimeout=%d&loginTimeout=%s&socketTimeout=%d&tcpKeepAlive=true"
            + "&targetServerType=primary",
        wholeSeconds(login),
        seconds(login),
        wholeSeconds(statement));
  }

  /**
   * What {@code socketTimeout} cannot say: a statement bound below or between whole seconds, set
   * with {@code Connection.setNetworkTimeout} on each new connection. Empty when it is whole
   * seconds.
   */
  public Optional<Duration> networkTimeout() {
    return statement.toMillis() % 1000 == 0 ? Optional.empty() : Optional.of(statement);
  }

  /**
   * These settings with the login and statement bounds rounded up to whole seconds: for a
   * multi-host URL, which tries its hosts one after another, each for up to {@code connectTimeout}
   * (whole seconds), so a sub-second {@code loginTimeout} would end the attempt before the second
   * host.
   */
  public ClientSettings wholeSeconds() {
    return new ClientSettings(
        profile,
        Duration.ofSeconds(wholeSeconds(login)),
        Duration.ofSeconds(wholeSeconds(statement)),
        connectTimeoutSeconds,
        tcpUserTimeoutMs,
        keepalivesIdle,
        keepalivesInterval,
        keepalivesCount);
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

  /**
   * A connection as an application following this guidance opens it: the properties, then the
   * network timeout when there is one.
   */
  Connection open(String url, Properties p) throws SQLException {
    Connection c = DriverManager.getConnection(url, p);
    if (networkTimeout().isPresent()) {
      try {
        // pgjdbc applies it to the socket at once; the executor is for drivers that abort calls
        c.setNetworkTimeout(Runnable::run, (int) networkTimeout().get().toMillis());
      } catch (SQLException | RuntimeException e) {
        c.close();
        throw e;
      }
    }
    return c;
  }

  /** A connection with the lab's superuser login and these settings: the bench's and demo's. */
  Connection openLabClient(String url) throws SQLException {
    return open(url, labClient());
  }

  private static long wholeSeconds(Duration d) {
    return (d.toMillis() + 999) / 1000;
  }

  private static String seconds(Duration d) {
    return BigDecimal.valueOf(d.toMillis(), 3).stripTrailingZeros().toPlainString();
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
