package io.pgfailover.aws;

import io.pgfailover.testsupport.aws.AwsEmulator;
import io.pgfailover.testsupport.aws.VpcFixture;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * Route-switch latency and API calls per switch on the emulator, for 1, 2 and 10 route tables
 * (bench/routes.sh). Each switch moves the virtual IP between the two PostgreSQL ENIs, so every
 * table is written every time.
 *
 * <p>Arguments: [switches per size, default 200] [warm-up switches, default 20] [table counts,
 * default 1,2,10] [maxConcurrency, default 10].
 */
public final class RouteSwitchBench {
  private RouteSwitchBench() {}

  public static void main(String[] args) {
    // Before any logger exists: one line per route event would dominate the measurement.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    int switches = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int[] sizes =
        args.length > 2
            ? Arrays.stream(args[2].split(",")).mapToInt(Integer::parseInt).toArray()
            : new int[] {1, 2, 10};
    int concurrency =
        args.length > 3 ? Integer.parseInt(args[3]) : AwsSettings.DEFAULT_MAX_CONCURRENCY;

    try (AwsEmulator emulator = AwsEmulator.start();
        Ec2Client fixtureEc2 = emulator.newEc2Client();
        AwsClients clients =
            AwsClients.builder(
                    AwsSettings.defaults(emulator.region())
                        .withEndpoint(emulator.endpoint())
                        .withMaxConcurrency(concurrency))
                .credentialsProvider(emulator.credentialsProvider())
                .build()) {
      RouteTables routeTables = new RouteTables(clients);
      System.out.printf(
          Locale.ROOT,
          "emulator=%s endpoint=%s switches_per_size=%d warmup=%d max_concurrency=%d%n",
          emulator.name(),
          emulator.endpoint(),
          switches,
          warmup,
          clients.settings().maxConcurrency());
      System.out.printf(
          Locale.ROOT,
          "%-7s %-9s %-8s %-8s %-8s %-15s %-15s%n",
          "tables",
          "switches",
          "p50_ms",
          "p99_ms",
          "max_ms",
          "api_calls/sw",
          "writes/sw");
      for (int size : sizes) {
        emulator.reset();
        VpcFixture vpc = VpcFixture.builder(fixtureEc2).routeTables(size).create();
        List<RouteTarget> targets =
            List.of(
                RouteTarget.networkInterface(vpc.standby().eniId()),
                RouteTarget.networkInterface(vpc.primary().eniId()));
        List<Long> nanos = new ArrayList<>();
        long calls = 0;
        long writes = 0;
        for (int i = 0; i < warmup + switches; i++) {
          RouteTarget target = targets.get(i % 2);
          long t0 = System.nanoTime();
          RouteSwitchResult result =
              routeTables.pointRoute(vpc.vipCidr(), vpc.routeTableIds(), target, false);
          long elapsed = System.nanoTime() - t0;
          if (!result.allOk()) {
            throw new IllegalStateException("switch " + i + " failed: " + result.tables());
          }
          if (i >= warmup) {
            nanos.add(elapsed);
            calls += result.apiCalls();
            writes += result.counts().get(RouteSwitchResult.Outcome.REPLACED);
          }
        }
        nanos.sort(null);
        System.out.printf(
            Locale.ROOT,
            "%-7d %-9d %-8.1f %-8.1f %-8.1f %-15.1f %-15.1f%n",
            size,
            switches,
            ms(percentile(nanos, 50)),
            ms(percentile(nanos, 99)),
            ms(nanos.get(nanos.size() - 1)),
            (double) calls / switches,
            (double) writes / switches);
      }
    }
  }

  /** Nearest-rank percentile of sorted samples. */
  static long percentile(List<Long> sorted, int p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.size());
    return sorted.get(Math.max(0, rank - 1));
  }

  private static double ms(long nanos) {
    return nanos / 1_000_000.0;
  }
}
