package io.pgfailover.testsupport.lab;

import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.pg.PairLayout;
import io.pgfailover.testsupport.pg.ProcessLauncher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The netns lab's names and addresses, as {@code scripts/lib/netns.sh} builds them, and the {@code
 * ip}/{@code nft} commands that inject its faults. Code using it runs inside namespace {@value
 * #CLIENT} (a JVM cannot move its threads between namespaces), and reaches the hosts through the
 * router.
 */
public final class NetnsLab {
  public static final String ROUTER = "pgfo-rtr";
  public static final String HOST_A = "pgfo-a";
  public static final String HOST_B = "pgfo-b";
  public static final String CLIENT = "pgfo-cli";
  public static final String CONTROLLER = "pgfo-ctl";

  /** The controller pair's second host, in the other AZ (AZ B, with pgfo-b). */
  public static final String CONTROLLER_B = "pgfo-ctl2";

  public static final String IP_CTL = "10.77.4.10";
  public static final String IP_CTL_B = "10.77.5.10";

  /** The controller host's subnet (pgfo-ctl). */
  public static final String CTL_SUBNET = "10.77.4.0/24";

  public static final String IP_A = "10.77.1.10";
  public static final String IP_B = "10.77.2.10";
  public static final String LAB_CIDR = "10.77.0.0/16";
  public static final String VIP = "192.168.240.10";

  /** Where moto listens, on the router's loopback: the lab's "EC2 API endpoint". */
  public static final String EC2_ENDPOINT = "http://10.77.0.1:5000";

  public static final VpcFixture.Addressing ADDRESSING =
      new VpcFixture.Addressing(LAB_CIDR, "10.77.1.0/24", "10.77.2.0/24", IP_A, IP_B);

  private NetnsLab() {}

  /** The lab's pair, with what pg_rewind needs set as {@code rewind} says. */
  public static PairLayout pairLayout(PairLayout.Rewind rewind) {
    return PairLayout.netns(HOST_A, IP_A, HOST_B, IP_B, LAB_CIDR).withRewind(rewind);
  }

  /** The namespace of a PostgreSQL host: node "a" or "b". */
  public static String hostOf(String node) {
    return "pgfo-" + node;
  }

  /**
   * The router's end of the link to a host: "a" or "b" (PostgreSQL), "ctl" or "ctl2" (controllers).
   */
  public static String routerLink(String node) {
    return "r" + node;
  }

  /**
   * Takes the link between the router and a node's host down: the host is cut off from everything.
   */
  public static void cut(String node) {
    ip("-n", ROUTER, "link", "set", routerLink(node), "down");
  }

  public static void heal(String node) {
    ip("-n", ROUTER, "link", "set", routerLink(node), "up");
  }

  /**
   * An AZ lost: the links of the primary's host ({@code node}: "a" or "b") and of the controller
   * host in the same AZ ({@code controllerLink}: "ctl" or "ctl2") go down in one {@code ip -batch},
   * so both are cut off together.
   */
  public static void cutAz(String node, String controllerLink) {
    setAzLinks(node, controllerLink, "down");
  }

  public static void healAz(String node, String controllerLink) {
    setAzLinks(node, controllerLink, "up");
  }

  private static void setAzLinks(String node, String controllerLink, String state) {
    run(
        List.of("ip", "-n", ROUTER, "-batch", "-"),
        "link set "
            + routerLink(node)
            + " "
            + state
            + "\nlink set "
            + routerLink(controllerLink)
            + " "
            + state
            + "\n");
  }

  /**
   * A silent partition of one path: the router drops (blackholes) packets from {@code fromCidr} to
   * {@code toIp}. Nothing answers, as when a security group or NACL drops traffic.
   */
  public static void blackhole(String fromCidr, String toIp) {
    ip("-n", ROUTER, "rule", "add", "from", fromCidr, "to", toIp, "blackhole", "priority", "100");
  }

  public static void unblackhole(String fromCidr, String toIp) {
    ip("-n", ROUTER, "rule", "del", "from", fromCidr, "to", toIp, "blackhole", "priority", "100");
  }

  /**
   * Drops {@code percent}% of the packets forwarded to or from {@code hostIp}, at random (nftables
   * numgen): every path to that host is lossy.
   */
  public static void loss(String hostIp, int percent) {
    lossRules("ip daddr " + hostIp, "ip saddr " + hostIp, percent);
  }

  /**
   * Drops {@code percent}% of the packets forwarded between {@code hostIp} and {@code peerCidr}, at
   * random: that one path is lossy, the host's others are not.
   */
  public static void loss(String hostIp, String peerCidr, int percent) {
    lossRules(
        "ip saddr " + peerCidr + " ip daddr " + hostIp,
        "ip saddr " + hostIp + " ip daddr " + peerCidr,
        percent);
  }

  private static void lossRules(String toHost, String fromHost, int percent) {
    String rules =
        String.join(
            "\n",
            "table inet pgfo_loss {",
            "  chain forward {",
            "    type filter hook forward priority 0; policy accept;",
            "    " + toHost + " numgen random mod 100 < " + percent + " drop",
            "    " + fromHost + " numgen random mod 100 < " + percent + " drop",
            "  }",
            "}",
            "");
    run(List.of("ip", "netns", "exec", ROUTER, "nft", "-f", "-"), rules);
  }

  /**
   * The EC2 API stops answering {@code fromCidr}: the router drops its packets to the emulator
   * (nftables).
   */
  public static void dropEc2From(String fromCidr) {
    String rules =
        String.join(
            "\n",
            "table inet pgfo_loss {",
            "  chain input {",
            "    type filter hook input priority 0; policy accept;",
            "    ip saddr " + fromCidr + " ip daddr 10.77.0.1 tcp dport 5000 drop",
            "  }",
            "}",
            "");
    run(List.of("ip", "netns", "exec", ROUTER, "nft", "-f", "-"), rules);
  }

  /** Removes every nftables fault ({@link #loss}, {@link #dropEc2From}). */
  public static void noLoss() {
    run(
        List.of("ip", "netns", "exec", ROUTER, "nft", "delete", "table", "inet", "pgfo_loss"),
        null);
  }

  /** The processes running in a host's namespace ({@code ip netns pids}: zombies have none). */
  public static List<Long> hostPids(String ns) {
    return ip("netns", "pids", ns)
        .lines()
        .map(String::trim)
        .filter(l -> !l.isEmpty())
        .map(Long::parseLong)
        .toList();
  }

  /**
   * Sends a signal to every process on a host: {@code KILL} crashes the host, {@code STOP} freezes
   * it and {@code CONT} thaws it. Repeats until no process on the host is left without it, so a
   * process forked meanwhile gets it too; returns how many processes were signalled.
   */
  public static int signalHost(String ns, String signal) {
    Set<Long> signalled = new HashSet<>();
    for (int round = 0; round < 10; round++) {
      List<Long> fresh = hostPids(ns).stream().filter(p -> !signalled.contains(p)).toList();
      if (fresh.isEmpty()) {
        return signalled.size();
      }
      ProcessLauncher.signal(signal, fresh);
      signalled.addAll(fresh);
    }
    throw new IllegalStateException(
        "processes on " + ns + " kept appearing while sending SIG" + signal);
  }

  /**
   * The command line that runs {@code mainClass} on lab host {@code namespace} with this JVM's java
   * and class path (a JVM cannot move its threads between namespaces, so each host gets its own).
   */
  public static List<String> javaOn(String namespace, String mainClass, List<String> args) {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                namespace,
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                mainClass));
    cmd.addAll(args);
    return cmd;
  }

  public static String ip(String... args) {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    return run(cmd, null);
  }

  private static String run(List<String> cmd, String stdin) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out.trim());
      }
      return out;
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + cmd.get(0), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted running " + cmd, e);
    }
  }
}
