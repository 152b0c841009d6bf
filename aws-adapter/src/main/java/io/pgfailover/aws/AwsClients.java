package io.pgfailover.aws;

import io.pgfailover.aws.internal.AwsCaller;
import io.pgfailover.aws.internal.FullJitterBackoff;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.awscore.client.builder.AwsClientBuilder;
import software.amazon.awssdk.awscore.client.builder.AwsSyncClientBuilder;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpClient;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudwatch.CloudWatchClient;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sts.StsClient;
import software.amazon.awssdk.utils.SdkAutoCloseable;

/**
 * The EC2, STS, DynamoDB, SNS and CloudWatch clients, built once from {@link AwsSettings} and
 * shared by {@link RouteTables}, {@link Ec2Discovery}, {@link Preflight}, {@link InstanceFencing},
 * {@link LeaseTable}, {@link SnsTopic} and {@link CloudWatchMetrics}. Thread-safe; close it once at
 * shutdown.
 *
 * <p>SDK retries are off ({@code AwsRetryStrategy.doNotRetry()}): the adapter's own policy retries,
 * under one deadline, so retries do not multiply and every attempt is counted and logged.
 */
public final class AwsClients implements AutoCloseable {
  private final AwsSettings settings;
  private final SdkHttpClient http;
  private final AwsCredentialsProvider credentials;
  private final boolean ownsCredentials;
  private final Ec2Client ec2;
  private final StsClient sts;
  private final DynamoDbClient dynamoDb;
  private final SnsClient sns;
  private final CloudWatchClient cloudWatch;
  private final AwsCaller caller;
  private final ExecutorService executor;
  private final Clock clock;
  private final LongAdder requestsSent = new LongAdder();

  private AwsClients(Builder b) {
    this.settings = b.settings;
    this.clock = b.clock;
    this.ownsCredentials = b.credentials == null;
    this.credentials =
        b.credentials != null ? b.credentials : DefaultCredentialsProvider.builder().build();
    this.http =
        UrlConnectionHttpClient.builder()
            .connectionTimeout(settings.apiCallAttemptTimeout())
            .socketTimeout(settings.apiCallAttemptTimeout())
            .build();
    List<ExecutionInterceptor> interceptors = new ArrayList<>();
    interceptors.add(
        new CountingInterceptor(requestsSent)); // first, so injected faults are counted too
    interceptors.addAll(b.interceptors);
    ClientOverrideConfiguration overrides =
        ClientOverrideConfiguration.builder()
            .apiCallTimeout(settings.apiCallTimeout())
            .apiCallAttemptTimeout(settings.apiCallAttemptTimeout())
            .retryStrategy(AwsRetryStrategy.doNotRetry())
            .executionInterceptors(interceptors)
            .build();
    Region region = Region.of(settings.region());
    this.ec2 = build(Ec2Client.builder(), region, overrides);
    this.sts = build(StsClient.builder(), region, overrides);
    this.dynamoDb = build(DynamoDbClient.builder(), region, overrides);
    this.sns = build(SnsClient.builder(), region, overrides);
    this.cloudWatch = build(CloudWatchClient.builder(), region, overrides);
    this.caller = new AwsCaller(settings.retryDeadline(), FullJitterBackoff.defaults(), clock);
    this.executor = Executors.newFixedThreadPool(settings.maxConcurrency(), daemonThreads());
  }

  /**
   * One service's client, as every other: the shared HTTP client, credentials, timeouts,
   * interceptors, no SDK retries, the endpoint override (an emulator serves every service on one).
   */
  private <B extends AwsClientBuilder<B, C> & AwsSyncClientBuilder<B, C>, C> C build(
      B builder, Region region, ClientOverrideConfiguration overrides) {
    builder
        .region(region)
        .credentialsProvider(credentials)
        .httpClient(http)
        .overrideConfiguration(overrides);
    settings.endpoint().ifPresent(builder::endpointOverride);
    return builder.build();
  }

  /**
   * Clients for real AWS or the configured endpoint, credentials from the default provider chain.
   */
  public static AwsClients create(AwsSettings settings) {
    return builder(settings).build();
  }

  public static Builder builder(AwsSettings settings) {
    return new Builder(settings);
  }

  public AwsSettings settings() {
    return settings;
  }

  /** Requests sent to AWS since these clients were built, retries included. */
  public long requestsSent() {
    return requestsSent.sum();
  }

  @Override
  public void close() {
    executor.shutdownNow();
    ec2.close();
    sts.close();
    dynamoDb.close();
    sns.close();
    cloudWatch.close();
    http.close();
    if (ownsCredentials && credentials instanceof SdkAutoCloseable closeable) {
      closeable.close();
    }
  }

  Ec2Client ec2() {
    return ec2;
  }

  StsClient sts() {
    return sts;
  }

  DynamoDbClient dynamoDb() {
    return dynamoDb;
  }

  SnsClient sns() {
    return sns;
  }

  CloudWatchClient cloudWatch() {
    return cloudWatch;
  }

  /** Runs an EC2 or STS call under the retry policy; see {@link AwsCaller#call}. */
  <T> T call(
      String action,
      String resourceId,
      AtomicInteger attempts,
      java.util.function.Supplier<T> call) {
    return caller.call(action, resourceId, attempts, call);
  }

  /** With a retry deadline of its own (see {@link AwsCaller}). */
  <T> T call(
      String action,
      String resourceId,
      AtomicInteger attempts,
      java.time.Duration retryDeadline,
      java.util.function.Supplier<T> call) {
    return caller.call(action, resourceId, attempts, retryDeadline, call);
  }

  /**
   * Every page of a listing, in order, each page one {@link #call} (retried and counted on its
   * own): EC2 may split even a filtered answer into pages. {@code page} sends one request for a
   * page token (null for the first page).
   */
  <R> List<R> callPages(
      String action,
      String resourceId,
      AtomicInteger attempts,
      java.time.Duration retryDeadline,
      Function<String, R> page,
      Function<R, String> nextToken) {
    List<R> pages = new ArrayList<>();
    String token = null;
    do {
      String pageToken = token;
      R response = call(action, resourceId, attempts, retryDeadline, () -> page.apply(pageToken));
      pages.add(response);
      token = nextToken.apply(response);
    } while (token != null && !token.isEmpty());
    return pages;
  }

  ExecutorService executor() {
    return executor;
  }

  Clock clock() {
    return clock;
  }

  public static final class Builder {
    private final AwsSettings settings;
    private AwsCredentialsProvider credentials;
    private final List<ExecutionInterceptor> interceptors = new ArrayList<>();
    private Clock clock = Clock.systemUTC();

    private Builder(AwsSettings settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
    }

    /** Overrides the default provider chain (tests against an emulator). */
    public Builder credentialsProvider(AwsCredentialsProvider credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
      return this;
    }

    /** Adds an SDK interceptor after the adapter's own (tests inject faults this way). */
    public Builder addInterceptor(ExecutionInterceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /** The clock for deadlines and elapsed times. */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    public AwsClients build() {
      return new AwsClients(this);
    }
  }

  private static ThreadFactory daemonThreads() {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "aws-call-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Counts every request that leaves for AWS, once per attempt. */
  private static final class CountingInterceptor implements ExecutionInterceptor {
    private final LongAdder counter;

    CountingInterceptor(LongAdder counter) {
      this.counter = counter;
    }

    @Override
    public void beforeTransmission(
        Context.BeforeTransmission context, ExecutionAttributes attributes) {
      counter.increment();
    }
  }
}
