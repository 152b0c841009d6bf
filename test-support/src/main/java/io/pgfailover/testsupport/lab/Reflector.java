package io.pgfailover.testsupport.lab;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.Route;

/**
 * Test and bench tooling, not product code: makes the netns lab's router follow the emulator's
 * route table the way the VPC router follows a real one. Every {@value #POLL_MS} ms it reads the
 * virtual IP's route with DescribeRouteTables and, when the target ENI changed (or every second
 * anyway, since a link going down drops the kernel's route), runs {@code ip -n pgfo-rtr route
 * replace VIP/32 via <that ENI's lab IP>}.
 */
public final class Reflector implements AutoCloseable {
  static final long POLL_MS = 100;

  /** The router started sending the virtual IP to {@code ip} at {@code at}. */
  public record Switch(Instant at, String eni, String ip) {}

  private final Ec2Client ec2;
  private final String routeTable;
  private final String vipCidr;
  private final Map<String, String> ipByEni;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Switch> switches = new CopyOnWriteArrayList<>();
  private final Thread thread;

  /**
   * @param routeTable the table the router follows (the client subnet's, in a real VPC)
   * @param ipByEni each ENI's private IP, which in the lab is its host's address
   */
  public Reflector(Ec2Client ec2, String routeTable, String vipCidr, Map<String, String> ipByEni) {
    this.ec2 = ec2;
    this.routeTable = routeTable;
    this.vipCidr = vipCidr;
    this.ipByEni = Map.copyOf(ipByEni);
    this.thread = new Thread(this::run, "reflector");
    this.thread.setDaemon(true);
  }

  public Reflector start() {
    thread.start();
    return this;
  }

  public List<Switch> switches() {
    return List.copyOf(switches);
  }

  private void run() {
    String applied = null;
    long appliedAt = 0;
    while (!stop.get()) {
      try {
        Optional<String> eni = target();
        String ip = eni.map(ipByEni::get).orElse(null);
        boolean changed = ip != null && !ip.equals(applied);
        if (ip != null && (changed || System.nanoTime() - appliedAt > 1_000_000_000L)) {
          NetnsLab.ip("-n", NetnsLab.ROUTER, "route", "replace", vipCidr, "via", ip);
          appliedAt = System.nanoTime();
          if (changed) {
            switches.add(new Switch(Instant.now(), eni.get(), ip));
            applied = ip;
          }
        }
      } catch (RuntimeException e) {
        // The emulator unreachable (a fault under test) or a route not applicable while a link is
        // down: the
        // router keeps its last route, as the VPC's does, and the next poll tries again.
      }
      try {
        Thread.sleep(
            POLL_MS); // the poll interval of a reflector; the VPC router applies changes "at once"
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private Optional<String> target() {
    return ec2.describeRouteTables(r -> r.routeTableIds(routeTable)).routeTables().stream()
        .flatMap(t -> t.routes().stream())
        .filter(r -> vipCidr.equals(r.destinationCidrBlock()))
        .map(Route::networkInterfaceId)
        .filter(java.util.Objects::nonNull)
        .findFirst();
  }

  @Override
  public void close() {
    stop.set(true);
    thread.interrupt();
    try {
      thread.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
