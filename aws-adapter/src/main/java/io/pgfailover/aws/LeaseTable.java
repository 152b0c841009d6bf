package io.pgfailover.aws;

import io.pgfailover.aws.internal.AwsCaller;
import io.pgfailover.aws.internal.FullJitterBackoff;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;

/**
 * One lease item per cluster in a DynamoDB table (partition key {@code cluster}, a string), changed
 * only by conditional writes. The item holds the owner, a fencing {@code token} that only grows (it
 * is never deleted, so it never restarts at 1), a {@code renewal} id that changes on every write (a
 * contender watches it, so no clock is compared across hosts), whether it was released, and the
 * holder's lease duration.
 *
 * <p>Every call is bounded by {@code callTimeout}: half of it for attempts, half for the retry
 * deadline of the adapter's one retry policy. A lost condition is a value (empty / false); an
 * unreachable table, a missing table or a denied permission throws {@link AwsCallException}, and
 * then the outcome of a write is unknown.
 */
public final class LeaseTable {
  /** The lease item as stored. */
  public record Item(
      String owner, long token, String renewal, boolean released, Duration duration) {}

  private final AwsClients clients;
  private final String table;
  private final Duration callTimeout;
  private final AwsCaller caller;
  private final AtomicInteger calls = new AtomicInteger();

  public LeaseTable(AwsClients clients, String table, Duration callTimeout) {
    this.clients = clients;
    this.table = table;
    this.callTimeout = callTimeout;
    this.caller =
        new AwsCaller(callTimeout.dividedBy(2), FullJitterBackoff.defaults(), clients.clock());
  }

  /** A strongly consistent read of the cluster's lease item, if there is one. */
  public Optional<Item> read(String cluster) {
    GetItemResponse r =
        call(
            "dynamodb:GetItem",
            () ->
                clients
                    .dynamoDb()
                    .getItem(
                        b ->
                            b.tableName(table)
                                .consistentRead(true)
                                .key(key(cluster))
                                .overrideConfiguration(o -> o.apiCallTimeout(attempt()))));
    return r.hasItem() && !r.item().isEmpty() ? Optional.of(item(r.item())) : Optional.empty();
  }

  /**
   * Take the lease if the item is still exactly {@code seen} (or still absent when {@code seen} is
   * empty): the token becomes {@code seen.token + 1}. Empty when someone else wrote in between.
   */
  public Optional<Item> take(String cluster, String owner, Optional<Item> seen, Duration duration) {
    Item next =
        new Item(
            owner,
            seen.map(i -> i.token() + 1).orElse(1L),
            UUID.randomUUID().toString(),
            false,
            duration);
    Map<String, AttributeValue> values = new LinkedHashMap<>();
    String condition;
    if (seen.isEmpty()) {
      condition = "attribute_not_exists(#c)";
    } else {
      condition = "#r = :seenRenewal AND #t = :seenToken";
      values.put(":seenRenewal", s(seen.get().renewal()));
      values.put(":seenToken", n(seen.get().token()));
    }
    Map<String, AttributeValue> item = new LinkedHashMap<>(key(cluster));
    item.putAll(attributes(next));
    boolean written =
        conditional(
            "dynamodb:PutItem",
            () ->
                clients
                    .dynamoDb()
                    .putItem(
                        b ->
                            b.tableName(table)
                                .item(item)
                                .conditionExpression(condition)
                                .expressionAttributeNames(
                                    seen.isEmpty()
                                        ? Map.of("#c", "cluster")
                                        : Map.of("#r", "renewal", "#t", "token"))
                                .expressionAttributeValues(values.isEmpty() ? null : values)
                                .overrideConfiguration(o -> o.apiCallTimeout(attempt()))));
    return written ? Optional.of(next) : Optional.empty();
  }

  /**
   * Renew a lease this owner holds under this token: a new renewal id. Empty when it is no longer
   * ours.
   */
  public Optional<Item> renew(String cluster, String owner, long token, Duration duration) {
    Item next = new Item(owner, token, UUID.randomUUID().toString(), false, duration);
    boolean written = update(cluster, owner, token, next);
    return written ? Optional.of(next) : Optional.empty();
  }

  /**
   * Hand the lease back (a clean shutdown), keeping the token. False when it was not ours any more.
   */
  public boolean release(String cluster, String owner, long token) {
    return update(
        cluster,
        owner,
        token,
        new Item(owner, token, UUID.randomUUID().toString(), true, Duration.ZERO));
  }

  /** DynamoDB requests sent (attempts included), for tests and metrics. */
  public int calls() {
    return calls.get();
  }

  private boolean update(String cluster, String owner, long token, Item next) {
    return conditional(
        "dynamodb:UpdateItem",
        () ->
            clients
                .dynamoDb()
                .updateItem(
                    b ->
                        b.tableName(table)
                            .key(key(cluster))
                            .updateExpression(
                                "SET #r = :renewal, #rel = :released, #d = :duration, #w ="
                                    + " :writtenAt")
                            .conditionExpression("#o = :owner AND #t = :token AND #rel = :false")
                            .expressionAttributeNames(
                                Map.of(
                                    "#r",
                                    "renewal",
                                    "#rel",
                                    "released",
                                    "#d",
                                    "durationMs",
                                    "#w",
                                    "writtenAt",
                                    "#o",
                                    "owner",
                                    "#t",
                                    "token"))
                            .expressionAttributeValues(
                                Map.of(
                                    ":renewal",
                                    s(next.renewal()),
                                    ":released",
                                    bool(next.released()),
                                    ":duration",
                                    n(next.duration().toMillis()),
                                    ":writtenAt",
                                    s(clients.clock().instant().toString()),
                                    ":owner",
                                    s(owner),
                                    ":token",
                                    n(token),
                                    ":false",
                                    bool(false)))
                            .overrideConfiguration(o -> o.apiCallTimeout(attempt()))));
  }

  /**
   * Runs a conditional write; a failed condition is an answer ("someone else holds it"), not an
   * error.
   */
  private boolean conditional(String action, Runnable write) {
    return call(
        action,
        () -> {
          try {
            write.run();
            return true;
          } catch (ConditionalCheckFailedException e) {
            return false;
          }
        });
  }

  private <T> T call(String action, java.util.function.Supplier<T> call) {
    return caller.call(action, table, calls, call);
  }

  private Duration attempt() {
    return callTimeout.dividedBy(2);
  }

  private Map<String, AttributeValue> attributes(Item i) {
    Map<String, AttributeValue> m = new LinkedHashMap<>();
    m.put("owner", s(i.owner()));
    m.put("token", n(i.token()));
    m.put("renewal", s(i.renewal()));
    m.put("released", bool(i.released()));
    m.put("durationMs", n(i.duration().toMillis()));
    // For people reading the table; no decision compares it with another host's clock.
    m.put("writtenAt", s(clients.clock().instant().toString()));
    return m;
  }

  private static Item item(Map<String, AttributeValue> m) {
    return new Item(
        m.getOrDefault("owner", s("")).s(),
        Long.parseLong(m.getOrDefault("token", n(0)).n()),
        m.getOrDefault("renewal", s("")).s(),
        Boolean.TRUE.equals(m.getOrDefault("released", bool(false)).bool()),
        Duration.ofMillis(Long.parseLong(m.getOrDefault("durationMs", n(0)).n())));
  }

  private static Map<String, AttributeValue> key(String cluster) {
    return Map.of("cluster", s(cluster));
  }

  private static AttributeValue s(String v) {
    return AttributeValue.fromS(v);
  }

  private static AttributeValue n(long v) {
    return AttributeValue.fromN(Long.toString(v));
  }

  private static AttributeValue bool(boolean v) {
    return AttributeValue.fromBool(v);
  }
}
