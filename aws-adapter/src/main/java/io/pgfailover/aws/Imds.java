package io.pgfailover.aws;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Self-discovery through the EC2 instance metadata service, IMDSv2 only: a session token from
 * {@code PUT /latest/api/token}, then the metadata paths with that token. Off EC2 (or with IMDS
 * disabled, or a hop limit that drops the answer in a container) {@link #discover()} returns empty
 * within the timeout.
 *
 * <p>Written on java.net.http because the SDK's {@code imds} artifact is not available to this
 * build; IMDSv1 (no token) is deliberately not tried, as instances should require v2.
 */
public final class Imds {
  private static final Logger log = LoggerFactory.getLogger(Imds.class);

  public static final URI DEFAULT_ENDPOINT = URI.create("http://169.254.169.254");

  /**
   * IMDS answers in milliseconds on EC2; off EC2 the address does not answer at all, so wait
   * briefly.
   */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(1);

  /** Token lifetime asked for: one discovery needs seconds; the maximum is 6 hours. */
  static final int TOKEN_TTL_SECONDS = 60;

  private final URI endpoint;
  private final Duration timeout;
  private final HttpClient http;
  private final boolean disabled;

  public Imds(URI endpoint, Duration timeout) {
    this(endpoint, timeout, false);
  }

  /**
   * @param disabled the environment switched IMDS off: {@link #discover} answers empty without a
   *     request
   */
  private Imds(URI endpoint, Duration timeout, boolean disabled) {
    this.disabled = disabled;
    this.endpoint = Objects.requireNonNull(endpoint, "endpoint");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("IMDS timeout must be positive, got " + timeout);
    }
    // No proxy: IMDS is link-local and must never be reached through one.
    this.http =
        HttpClient.newBuilder().connectTimeout(timeout).proxy(HttpClient.Builder.NO_PROXY).build();
  }

  /**
   * The SDK's conventions: AWS_EC2_METADATA_SERVICE_ENDPOINT overrides the address and
   * AWS_EC2_METADATA_DISABLED=true turns IMDS off (off EC2, so nothing reaches for the link-local
   * address).
   */
  public static Imds fromEnvironment() {
    URI endpoint =
        Optional.ofNullable(System.getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT"))
            .filter(s -> !s.isBlank())
            .map(URI::create)
            .orElse(DEFAULT_ENDPOINT);
    boolean disabled = "true".equalsIgnoreCase(System.getenv("AWS_EC2_METADATA_DISABLED"));
    return new Imds(endpoint, DEFAULT_TIMEOUT, disabled);
  }

  /** This instance's id, region and AZ; empty when not on EC2 or IMDS does not answer in time. */
  public Optional<SelfIdentity> discover() {
    if (disabled) {
      log.info("event=imds_skipped reason=AWS_EC2_METADATA_DISABLED");
      return Optional.empty();
    }
    try {
      HttpResponse<String> tokenResponse =
          http.send(
              HttpRequest.newBuilder(endpoint.resolve("/latest/api/token"))
                  .timeout(timeout)
                  .header(
                      "X-aws-ec2-metadata-token-ttl-seconds", Integer.toString(TOKEN_TTL_SECONDS))
                  .PUT(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (tokenResponse.statusCode() != 200 || tokenResponse.body().isBlank()) {
        log.info(
            "event=imds_unavailable endpoint={} reason=token_http_{}",
            endpoint,
            tokenResponse.statusCode());
        return Optional.empty();
      }
      String token = tokenResponse.body().trim();
      Optional<String> instanceId = get(token, "instance-id");
      Optional<String> region = get(token, "placement/region");
      Optional<String> az = get(token, "placement/availability-zone");
      if (instanceId.isEmpty() || region.isEmpty() || az.isEmpty()) {
        log.info("event=imds_unavailable endpoint={} reason=incomplete_metadata", endpoint);
        return Optional.empty();
      }
      SelfIdentity self = new SelfIdentity(instanceId.get(), region.get(), az.get());
      log.info(
          "event=imds_discovered instance={} region={} az={}",
          self.instanceId(),
          self.region(),
          self.availabilityZone());
      return Optional.of(self);
    } catch (IOException e) {
      log.info("event=imds_unavailable endpoint={} reason=\"{}\"", endpoint, e.toString());
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.empty();
    }
  }

  private Optional<String> get(String token, String path) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(endpoint.resolve("/latest/meta-data/" + path))
                .timeout(timeout)
                .header("X-aws-ec2-metadata-token", token)
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200 || response.body().isBlank()) {
      log.info("event=imds_path_unavailable path={} status={}", path, response.statusCode());
      return Optional.empty();
    }
    return Optional.of(response.body().trim());
  }
}
