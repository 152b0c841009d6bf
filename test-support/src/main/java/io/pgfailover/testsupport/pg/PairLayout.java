package io.pgfailover.testsupport.pg;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Where a {@link PostgresPair}'s two servers live and how they replicate: on loopback with free
 * ports (the default), or one per network namespace of the netns lab, each on its host address and
 * port 5432.
 *
 * @param nodes node "a" (first primary) and node "b" (first standby)
 * @param listenAddresses postgresql.conf {@code listen_addresses}: in a namespace {@code *}, so
 *     that the virtual IP on the host's loopback is served too
 * @param clientNetwork the CIDR pg_hba.conf admits (SCRAM) for clients and replication
 * @param rewind what pg_rewind finds: {@link Rewind#OFF} by default, as every test before the node
 *     agent ran
 */
public record PairLayout(
    List<Place> nodes, String listenAddresses, String clientNetwork, Rewind rewind) {

  /** The settings pg_rewind needs, none, or all but the target's. */
  public enum Rewind {
    /** full_page_writes and wal_log_hints off (faster), no checksums: no rewind. */
    OFF,
    /**
     * Everything pg_rewind needs except on the target: full_page_writes on, wal_log_hints off and
     * no checksums. pg_rewind refuses for that reason alone: the agent's reclone path.
     */
    NO_HINTS,
    /**
     * full_page_writes and wal_log_hints on, and {@code wal_keep_size} at least {@code
     * max_wal_size} (both 256MB) so that an old primary keeps its WAL back to its last checkpoint
     * before the fork.
     */
    ON
  }

  /** One server's address, and the network namespace its processes run in (none: the caller's). */
  public record Place(String host, int port, Optional<String> netns) {
    public Place {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(netns, "netns");
    }
  }

  public PairLayout {
    if (nodes.size() != 2) {
      throw new IllegalArgumentException("a pair has 2 nodes, got " + nodes.size());
    }
    nodes = List.copyOf(nodes);
  }

  /** Both servers on 127.0.0.1, on free ports chosen now. */
  public static PairLayout loopback() {
    int[] ports = PostgresPair.freePorts(2);
    return new PairLayout(
        List.of(
            new Place(PgNode.HOST, ports[0], Optional.empty()),
            new Place(PgNode.HOST, ports[1], Optional.empty())),
        PgNode.HOST,
        "127.0.0.1/32",
        Rewind.OFF);
  }

  /** Node a in namespace {@code nsA} at {@code hostA}:5432, node b likewise. */
  public static PairLayout netns(
      String nsA, String hostA, String nsB, String hostB, String clientNetwork) {
    return new PairLayout(
        List.of(new Place(hostA, 5432, Optional.of(nsA)), new Place(hostB, 5432, Optional.of(nsB))),
        "*",
        clientNetwork,
        Rewind.OFF);
  }

  /** The same layout with other settings for pg_rewind. */
  public PairLayout withRewind(Rewind value) {
    return new PairLayout(nodes, listenAddresses, clientNetwork, value);
  }
}
