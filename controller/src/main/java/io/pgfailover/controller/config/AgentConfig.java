package io.pgfailover.controller.config;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The node agent's configuration ({@code failoverctl agent -c agent.yaml}): built once by {@link
 * AgentConfigLoader}, validated, immutable. The agent owns one host's PostgreSQL service and data
 * directory and nothing else.
 *
 * @param node this host's node name in the controller's config
 * @param listen the API's address: a specific address of this host, never a wildcard
 * @param tokenFile the bearer token the controllers send (owner-only, at least 16 characters)
 * @param eventLog the agent's own event history
 */
public record AgentConfig(
    String node,
    InetSocketAddress listen,
    Path tokenFile,
    EventLogConfig eventLog,
    Postgres postgres,
    Replication replication,
    Rejoin rejoin,
    Witness witness) {

  /**
   * The agent's own probe of its upstream (the server its {@code primary_conninfo} names): the
   * controller's active witness. Same bounded probe as the controller's, with its timeout; the next
   * one starts {@code interval} after one ends. The interval is short (a quarter of the timeout by
   * default) because the controller asks, when its own probe of the primary has just failed,
   * whether this host failed to reach it over the same time: a witness probing every 250 ms has
   * failed within {@code interval + timeout} of the fault. The cost is a few short connections a
   * second to the primary.
   */
  public record Witness(Duration interval, Duration timeout) {
    public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(250);
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);
  }

  public static final Path DEFAULT_EVENT_LOG = Path.of("/var/lib/pgfailover-agent/events.jsonl");

  /** How PostgreSQL is started and stopped when no explicit commands are given. */
  public enum Service {
    /** {@code systemctl start|stop UNIT}, as root: PostgreSQL from the distribution's packages. */
    SYSTEMD,
    /** {@code pg_ctl start|stop} as the PostgreSQL OS user: the lab, or a hand-run server. */
    PG_CTL
  }

  /**
   * This host's PostgreSQL.
   *
   * @param bindir holds pg_ctl, pg_controldata, pg_rewind, pg_basebackup and postgres
   * @param osUser the tools run as this user when the agent runs as root
   * @param host where the agent's own queries connect (with {@code port})
   * @param start explicit start command (argv), run as the agent's user; overrides the preset
   * @param stop explicit stop command (argv), run as the agent's user; overrides the preset
   * @param configFile postgresql.conf when it lives outside the data directory (Debian); given to
   *     pg_rewind, which may have to start the server in single-user mode
   * @param serverLog where a server started by the {@code pg_ctl} preset writes its log
   * @param local the login of the agent's own read-only queries (role, timeline, WAL receiver)
   */
  public record Postgres(
      Path dataDirectory,
      Path bindir,
      String osUser,
      String host,
      int port,
      Service service,
      String unit,
      Optional<List<String>> start,
      Optional<List<String>> stop,
      Duration startTimeout,
      Duration stopTimeout,
      Optional<Path> configFile,
      Path serverLog,
      Login local) {
    public static final Path DEFAULT_BINDIR = Path.of("/usr/bin");
    public static final String DEFAULT_OS_USER = "postgres";
    public static final String DEFAULT_HOST = "127.0.0.1";
    public static final String DEFAULT_UNIT = "postgresql";
    public static final Duration DEFAULT_START_TIMEOUT = Duration.ofSeconds(60);
    public static final Duration DEFAULT_STOP_TIMEOUT = Duration.ofSeconds(60);

    public Postgres {
      start = start.map(List::copyOf);
      stop = stop.map(List::copyOf);
    }

    public Path tool(String name) {
      return bindir.resolve(name);
    }
  }

  /** A login: its role and where its password comes from. */
  public record Login(String user, PasswordConfig password) {
    public static final String DEFAULT_USER = "pgfailover";
  }

  /**
   * How a rejoin reaches the new primary: pg_rewind's and pg_basebackup's connections and the
   * standby's {@code primary_conninfo}.
   *
   * @param passwordFile the replication role's password (owner-only), read by the agent
   * @param passfile the libpq password file the agent writes from it (owned by the OS user, mode
   *     0600) and names in {@code primary_conninfo} and {@code PGPASSFILE}: the password never
   *     appears on a command line or in postgresql.auto.conf
   */
  public record Replication(String user, Path passwordFile, Path passfile) {
    public static final String DEFAULT_USER = "replicator";
    public static final String DEFAULT_PASSFILE_NAME = "pgfailover-replication.pgpass";
  }

  /**
   * Rejoin's choices and bounds.
   *
   * @param reclone allow pg_basebackup into a new directory when pg_rewind is impossible or fails
   * @param sourceTimeout the source's checks, its checkpoint and its slot (one connection)
   * @param rewindTimeout one pg_rewind run
   * @param recloneTimeout one pg_basebackup run: set it from the database's size and the network
   * @param streamTimeout from the start of the rejoined server until its WAL receiver streams
   */
  public record Rejoin(
      boolean reclone,
      Duration sourceTimeout,
      Duration rewindTimeout,
      Duration recloneTimeout,
      Duration streamTimeout) {
    public static final Duration DEFAULT_SOURCE_TIMEOUT = Duration.ofMinutes(5);
    public static final Duration DEFAULT_REWIND_TIMEOUT = Duration.ofMinutes(30);
    public static final Duration DEFAULT_RECLONE_TIMEOUT = Duration.ofHours(12);
    public static final Duration DEFAULT_STREAM_TIMEOUT = Duration.ofMinutes(2);
  }

  /** host:port as the operator wrote it. */
  public String listenText() {
    return listen.getHostString() + ":" + listen.getPort();
  }
}
