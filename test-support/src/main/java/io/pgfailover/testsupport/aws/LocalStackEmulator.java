package io.pgfailover.testsupport.aws;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * LocalStack through Testcontainers, chosen only with {@code AWS_EMULATOR=localstack} and a Docker
 * engine. Not what CI runs: moto is.
 */
final class LocalStackEmulator implements AwsEmulator {
  /** Pinned so a new LocalStack release cannot change test results unasked. */
  static final DockerImageName IMAGE = DockerImageName.parse("localstack/localstack:3.8.1");

  private final LocalStackContainer container;
  private final String region;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private LocalStackEmulator(LocalStackContainer container, String region) {
    this.container = container;
    this.region = region;
  }

  static LocalStackEmulator start(String region) {
    LocalStackContainer container =
        new LocalStackContainer(IMAGE)
            .withServices(LocalStackContainer.Service.EC2, LocalStackContainer.Service.STS)
            .withEnv("DEFAULT_REGION", region);
    container.start();
    return new LocalStackEmulator(container, region);
  }

  @Override
  public String name() {
    return "localstack";
  }

  @Override
  public URI endpoint() {
    return container.getEndpoint();
  }

  @Override
  public String region() {
    return region;
  }

  @Override
  public void reset() {
    HttpRequest request =
        HttpRequest.newBuilder(endpoint().resolve("/_localstack/state/reset"))
            .timeout(Duration.ofSeconds(30))
            .POST(HttpRequest.BodyPublishers.noBody())
            .build();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() / 100 != 2) {
        throw new IllegalStateException(
            "LocalStack reset answered HTTP " + response.statusCode() + ": " + response.body());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("LocalStack reset failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during LocalStack reset", e);
    }
  }

  @Override
  public void close() {
    container.stop();
  }
}
