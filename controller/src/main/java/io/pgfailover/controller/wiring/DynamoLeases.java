package io.pgfailover.controller.wiring;

import io.pgfailover.aws.AwsCallException;
import io.pgfailover.aws.AwsClients;
import io.pgfailover.aws.LeaseTable;
import io.pgfailover.controller.config.LeaseConfig;
import io.pgfailover.controller.port.LeaseStore;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;

/** {@link LeaseStore} over aws-adapter's {@link LeaseTable}: one item per cluster. */
final class DynamoLeases implements LeaseStore {
  private final LeaseTable table;
  private final String cluster;

  DynamoLeases(AwsClients clients, String cluster, LeaseConfig config) {
    this.table = new LeaseTable(clients, config.table(), config.callTimeout());
    this.cluster = cluster;
  }

  @Override
  public Optional<Lease> read() {
    return call(() -> table.read(cluster).map(DynamoLeases::lease));
  }

  @Override
  public Optional<Lease> take(Optional<Lease> seen, String owner, Duration duration) {
    return call(
        () ->
            table
                .take(cluster, owner, seen.map(DynamoLeases::item), duration)
                .map(DynamoLeases::lease));
  }

  @Override
  public Optional<Lease> renew(String owner, long token, Duration duration) {
    return call(() -> table.renew(cluster, owner, token, duration).map(DynamoLeases::lease));
  }

  @Override
  public boolean release(String owner, long token) {
    return call(() -> table.release(cluster, owner, token));
  }

  private static <T> T call(Supplier<T> call) {
    try {
      return call.get();
    } catch (AwsCallException e) {
      throw new Unavailable(e.getMessage(), e);
    }
  }

  private static Lease lease(LeaseTable.Item i) {
    return new Lease(i.owner(), i.token(), i.renewal(), i.released(), i.duration());
  }

  private static LeaseTable.Item item(Lease l) {
    return new LeaseTable.Item(l.owner(), l.token(), l.renewal(), l.released(), l.duration());
  }
}
