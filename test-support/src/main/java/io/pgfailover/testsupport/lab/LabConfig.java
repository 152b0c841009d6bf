package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;

/**
 * The controller YAML for a PostgreSQL pair and an emulator fixture: used by the lab ({@code lab.sh up}) and by
 * the controller's integration tests, so both run the controller exactly as an operator's config would.
 *
 * @param nodes each node's name in the config, its server, and the EC2 instance/ENI standing for its host
 * @param failover the {@code failover:} block's flow mapping body, e.g. {@code automatic: true, fencing: none}
 */
public record LabConfig(
    URI awsEndpoint,
    String region,
    VpcFixture vpc,
    List<Binding> nodes,
    Path passwordFile,
    Path tokenFile,
    int adminPort,
    Path eventLog,
    String probe,
    String failover) {

  public static final String DEFAULT_PROBE = "interval: 1s, timeout: 1s, failureThreshold: 3, writeCheck: true, routeRefresh: 30s";
  public static final String DEFAULT_FAILOVER = "automatic: true, maxLagBytes: 16MB, fencing: none, witnessWindow: 5s, promoteTimeout: 30s";

  /** A node as the config names it, the server behind it, and the host it stands on in the emulator. */
  public record Binding(String name, String host, int port, VpcFixture.Node ec2) {
    public static Binding of(String name, PgNode pg, VpcFixture.Node ec2) {
      return new Binding(name, pg.host(), pg.port(), ec2);
    }
  }

  public String render() {
    StringBuilder y = new StringBuilder();
    y.append("# Generated for the loopback lab: a PostgreSQL pair and the AWS emulator.\n");
    y.append("cluster: lab\n");
    y.append("aws:\n  region: ").append(region).append("\n  endpoint: ").append(awsEndpoint).append('\n');
    y.append("virtualIp: ").append(vpc.vipCidr()).append('\n');
    y.append("routeTables:\n");
    vpc.routeTableIds().forEach(t -> y.append("  - ").append(t).append('\n'));
    y.append("nodes:\n");
    for (Binding n : nodes) {
      y.append("  - name: ").append(n.name()).append('\n')
          .append("    instanceId: ").append(n.ec2().instanceId()).append('\n')
          .append("    eniId: ").append(n.ec2().eniId()).append('\n')
          .append("    host: ").append(n.host()).append('\n')
          .append("    port: ").append(n.port()).append('\n')
          .append("    database: postgres\n")
          .append("    user: ").append(PostgresPair.SUPERUSER).append('\n')
          .append("    password: {file: ").append(passwordFile).append("}\n");
    }
    y.append("probe: {").append(probe).append("}\n");
    y.append("failover: {").append(failover).append("}\n");
    y.append("admin: {listen: '127.0.0.1:").append(adminPort).append("', tokenFile: ").append(tokenFile).append("}\n");
    y.append("eventLog: ").append(eventLog).append('\n');
    return y.toString();
  }
}
