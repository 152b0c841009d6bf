package io.pgfailover.controller.config;

import io.pgfailover.controller.config.YamlFields.Errors;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.nodes.Node;

/**
 * Builds the one {@link AgentConfig} from YAML, the way {@link ConfigLoader} builds the
 * controller's: every problem collected and reported with its line, value and fix; a bad value is
 * never swapped for a default.
 */
public final class AgentConfigLoader {
  static final String SAMPLE = "config/agent.example.yaml";

  /** A PostgreSQL role name as the agent writes it into conninfo strings: no quoting needed. */
  static final Pattern ROLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$-]{0,62}");

  /** An OS user name (useradd's rule). */
  static final Pattern OS_USER = Pattern.compile("[a-z_][a-z0-9_-]{0,31}");

  /** A systemd unit name, optionally with an instance, e.g. postgresql@15-main. */
  static final Pattern UNIT = Pattern.compile("[A-Za-z0-9:_.@\\\\-]{1,255}");

  private AgentConfigLoader() {}

  public static AgentConfig load(Path file) throws ConfigException {
    return parse(YamlFields.readFile(file), file.toString());
  }

  public static AgentConfig parse(String yaml, String source) throws ConfigException {
    YamlFields top = YamlFields.top(yaml, source, SAMPLE);
    AgentConfig config = read(top);
    top.errors().throwIfAny();
    return config;
  }

  private static AgentConfig read(YamlFields top) {
    Errors errors = top.errors();
    String node =
        top.requiredMatching(
            "node",
            ConfigLoader.NAME,
            "a node name (lower-case letters, digits, - _ .)",
            "pg-a (the name this host has in the controller's nodes[])");
    InetSocketAddress listen = listen(top);
    Path tokenFile =
        absolutePath(top, "tokenFile", "/etc/pgfailover/agent-token (owner-only, 16+ characters)")
            .orElse(Path.of("/"));
    EventLogConfig eventLog = ConfigLoader.eventLog(top, AgentConfig.DEFAULT_EVENT_LOG);

    YamlFields pg = top.object("postgres");
    if (top.get("postgres").isEmpty()) {
      errors.add(
          top.node(),
          "postgres",
          "is required but missing",
          "add postgres: {dataDirectory: /var/lib/pgsql/data}");
    }
    AgentConfig.Postgres postgres = postgres(pg);

    YamlFields r = top.object("replication");
    if (top.get("replication").isEmpty()) {
      errors.add(
          top.node(),
          "replication",
          "is required but missing",
          "add replication: {user: replicator, passwordFile:"
              + " /etc/pgfailover/replication-password}");
    }
    String replicationUser =
        role(r, "user", AgentConfig.Replication.DEFAULT_USER, "replication.user");
    Path passwordFile =
        r.node() == null
            ? Path.of("/")
            : absolutePath(r, "passwordFile", "/etc/pgfailover/replication-password (owner-only)")
                .orElse(Path.of("/"));
    Path passfile =
        optionalAbsolutePath(r, "passfile")
            .orElse(
                parentOf(postgres.dataDirectory())
                    .resolve(AgentConfig.Replication.DEFAULT_PASSFILE_NAME));
    r.rejectUnknown();
    AgentConfig.Replication replication =
        new AgentConfig.Replication(replicationUser, passwordFile, passfile);

    YamlFields j = top.object("rejoin");
    AgentConfig.Rejoin rejoin =
        new AgentConfig.Rejoin(
            j.bool("reclone", false),
            atLeastOneSecond(j, "sourceTimeout", AgentConfig.Rejoin.DEFAULT_SOURCE_TIMEOUT),
            atLeastOneSecond(j, "rewindTimeout", AgentConfig.Rejoin.DEFAULT_REWIND_TIMEOUT),
            atLeastOneSecond(j, "recloneTimeout", AgentConfig.Rejoin.DEFAULT_RECLONE_TIMEOUT),
            atLeastOneSecond(j, "streamTimeout", AgentConfig.Rejoin.DEFAULT_STREAM_TIMEOUT));
    j.rejectUnknown();
    YamlFields w = top.object("witness");
    AgentConfig.Witness witness =
        new AgentConfig.Witness(
            w.duration("interval", AgentConfig.Witness.DEFAULT_INTERVAL),
            w.duration("timeout", AgentConfig.Witness.DEFAULT_TIMEOUT));
    if (witness.interval().toMillis() < 100) {
      top.errors()
          .add(
              w.get("interval").orElse(w.node()),
              "witness.interval",
              "is below 100 ms",
              "use 100ms or more (the controller's probe.interval is a good value)");
    }
    w.rejectUnknown();
    top.rejectUnknown();
    return new AgentConfig(
        node, listen, tokenFile, eventLog, postgres, replication, rejoin, witness);
  }

  /**
   * The API's address. A wildcard would offer the agent, which can stop and overwrite the database,
   * on every interface of the host: the operator names the private address.
   */
  private static InetSocketAddress listen(YamlFields top) {
    Errors errors = top.errors();
    String fix = "write this host's private address and a port, e.g. listen: 10.0.1.10:8009";
    String value = top.requiredString("listen", fix);
    if (value.isEmpty()) {
      return InetSocketAddress.createUnresolved("127.0.0.1", 8009);
    }
    Node at = top.get("listen").get();
    InetSocketAddress a = ConfigLoader.hostPort(value, at, "listen", errors);
    if (isWildcard(a.getHostString())) {
      errors.add(
          at,
          "listen",
          "\"" + value + "\" listens on every interface",
          fix + " (the address the controllers reach this host on)");
    } else if (a.getPort() == 0) {
      errors.add(
          at,
          "listen",
          "\"" + value + "\" has no fixed port",
          "name the port, e.g. 10.0.1.10:8009");
    }
    return a;
  }

  static boolean isWildcard(String host) {
    String h =
        host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    if (h.isEmpty() || h.equals("*")) {
      return true;
    }
    // Only literals are parsed (a name would be looked up in DNS): an IPv4 dotted quad or IPv6.
    if (!h.matches("[0-9.]+") && !h.contains(":")) {
      return false;
    }
    try {
      return InetAddress.getByName(h).isAnyLocalAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private static AgentConfig.Postgres postgres(YamlFields p) {
    Errors errors = p.errors();
    Path dataDirectory =
        p.node() == null
            ? Path.of("/")
            : absolutePath(p, "dataDirectory", "/var/lib/pgsql/data").orElse(Path.of("/"));
    if (dataDirectory.getParent() == null
        && p.node() != null
        && p.get("dataDirectory").isPresent()) {
      errors.add(
          p.get("dataDirectory").get(),
          "postgres.dataDirectory",
          "is the root directory",
          "name the data directory; a reclone writes its new copy beside it");
    }
    Path bindir = optionalAbsolutePath(p, "bindir").orElse(AgentConfig.Postgres.DEFAULT_BINDIR);
    String osUser = p.optionalString("osUser").orElse(AgentConfig.Postgres.DEFAULT_OS_USER);
    if (!OS_USER.matcher(osUser).matches()) {
      errors.add(
          p.get("osUser").orElse(p.node()),
          "postgres.osUser",
          "\"" + osUser + "\" is not an OS user name",
          "write the user PostgreSQL runs as, e.g. osUser: postgres");
    }
    String host = p.optionalString("host").orElse(AgentConfig.Postgres.DEFAULT_HOST);
    int port = (int) p.integer("port", 5432, 1, 65535);
    AgentConfig.Service service =
        p.enumValue("service", AgentConfig.Service.class, AgentConfig.Service.SYSTEMD);
    String unit = p.optionalString("unit").orElse(AgentConfig.Postgres.DEFAULT_UNIT);
    if (!UNIT.matcher(unit).matches()) {
      errors.add(
          p.get("unit").orElse(p.node()),
          "postgres.unit",
          "\"" + unit + "\" is not a systemd unit name",
          "write e.g. postgresql (Amazon Linux 2023) or postgresql@15-main (Debian)");
    }
    Optional<List<String>> start = command(p, "start");
    Optional<List<String>> stop = command(p, "stop");
    Duration startTimeout =
        atLeastOneSecond(p, "startTimeout", AgentConfig.Postgres.DEFAULT_START_TIMEOUT);
    Duration stopTimeout =
        atLeastOneSecond(p, "stopTimeout", AgentConfig.Postgres.DEFAULT_STOP_TIMEOUT);
    Optional<Path> configFile = optionalAbsolutePath(p, "configFile");
    Path serverLog =
        optionalAbsolutePath(p, "serverLog")
            .orElse(dataDirectory.resolveSibling(dataDirectory.getFileName() + ".log"));
    YamlFields l = p.object("local");
    String localUser = role(l, "user", AgentConfig.Login.DEFAULT_USER, "postgres.local.user");
    PasswordConfig localPassword =
        ConfigLoader.password(l.object("password"), l.get("password").isPresent());
    l.rejectUnknown();
    p.rejectUnknown();
    return new AgentConfig.Postgres(
        dataDirectory,
        bindir,
        osUser,
        host,
        port,
        service,
        unit,
        start,
        stop,
        startTimeout,
        stopTimeout,
        configFile,
        serverLog,
        new AgentConfig.Login(localUser, localPassword));
  }

  /** An explicit start or stop command: a non-empty list of words, the first an absolute path. */
  private static Optional<List<String>> command(YamlFields p, String key) {
    if (p.get(key).isEmpty()) {
      return Optional.empty();
    }
    String fix =
        "write the command as a list of words, e.g. "
            + key
            + ": [/usr/bin/systemctl, "
            + key
            + ", postgresql]";
    List<String> argv =
        p.list(
            key,
            false,
            fix,
            item ->
                new YamlFields(null, item.path(), p.errors())
                    .scalar(item.node(), item.path())
                    .orElse(""));
    if (argv.isEmpty() || argv.stream().anyMatch(String::isEmpty)) {
      p.errors().add(p.get(key).get(), p.child(key), "is empty or has an empty word", fix);
    } else if (!Path.of(argv.get(0)).isAbsolute()) {
      p.errors()
          .add(
              p.get(key).get(),
              p.child(key),
              "\"" + argv.get(0) + "\" is not an absolute path",
              "name the program by its full path, e.g. /usr/bin/systemctl: the agent runs it"
                  + " without a shell or PATH lookup");
    }
    return Optional.of(argv);
  }

  private static String role(YamlFields f, String key, String dflt, String path) {
    String v = f.optionalString(key).orElse(dflt);
    if (!ROLE.matcher(v).matches()) {
      f.errors()
          .add(
              f.get(key).orElse(f.node()),
              path,
              "\"" + v + "\" is not a plain role name",
              "use letters, digits and _ (e.g. " + dflt + ")");
    }
    return v;
  }

  private static Optional<Path> absolutePath(YamlFields f, String key, String example) {
    Optional<String> v = f.optionalString(key);
    if (v.isEmpty()) {
      if (f.get(key).isEmpty()) {
        f.errors()
            .add(f.node(), f.child(key), "is required but missing", "add " + key + ": " + example);
      }
      return Optional.empty();
    }
    return checkAbsolute(f, key, v.get(), example);
  }

  private static Optional<Path> optionalAbsolutePath(YamlFields f, String key) {
    return f.optionalString(key).flatMap(v -> checkAbsolute(f, key, v, "/full/path"));
  }

  private static Optional<Path> checkAbsolute(
      YamlFields f, String key, String value, String example) {
    Path p = Path.of(value);
    if (!p.isAbsolute()) {
      f.errors()
          .add(
              f.get(key).get(),
              f.child(key),
              "\"" + value + "\" is not an absolute path",
              "write the full path, e.g. " + example);
      return Optional.empty();
    }
    return Optional.of(p.normalize());
  }

  private static Duration atLeastOneSecond(YamlFields f, String key, Duration dflt) {
    Duration d = f.duration(key, dflt);
    if (d.compareTo(Duration.ofSeconds(1)) < 0) {
      f.errors()
          .add(
              f.get(key).orElse(f.node()),
              f.child(key),
              d.toMillis() + " ms is shorter than 1 s",
              "use 1s or more (default " + dflt.toSeconds() + "s)");
      return dflt;
    }
    return d;
  }

  private static Path parentOf(Path dir) {
    return dir.getParent() == null ? dir : dir.getParent();
  }
}
