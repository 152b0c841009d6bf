package io.pgfailover.testsupport.aws;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * A running AWS emulator reachable over HTTP: moto_server from the project's venv (the default) or
 * LocalStack through Testcontainers when {@code AWS_EMULATOR=localstack}. CI runs everything on
 * moto and the aws-adapter and stack tests on LocalStack too.
 *
 * <p>This is the non-JUnit API (benchmarks, demos); tests use {@link AwsEmulatorExtension}.
 */
public interface AwsEmulator extends AutoCloseable {

  /**
   * Environment variable that chooses the emulator: {@code moto} (default) or {@code localstack}.
   */
  String SWITCH_ENV = "AWS_EMULATOR";

  String DEFAULT_REGION = "us-east-1";

  /** The emulators accept any credentials; these are the conventional ones. */
  AwsCredentialsProvider CREDENTIALS =
      StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test"));

  /** Which emulator this is ("moto" or "localstack"), for logs and skip messages. */
  String name();

  /** Base URL of the emulator, to pass as the SDK's endpoint override. */
  URI endpoint();

  String region();

  default AwsCredentialsProvider credentialsProvider() {
    return CREDENTIALS;
  }

  /** The account the credentials act in (what STS GetCallerIdentity answers). */
  String accountId();

  /**
   * Each test starts from an empty account: moto drops every resource; LocalStack moves to a fresh
   * account, and {@link #credentialsProvider()} follows it.
   */
  void reset();

  @Override
  void close();

  /** An EC2 client for fixtures; the caller closes it. */
  default Ec2Client newEc2Client() {
    return Ec2Client.builder()
        .endpointOverride(endpoint())
        .region(Region.of(region()))
        .credentialsProvider(credentialsProvider())
        .httpClientBuilder(UrlConnectionHttpClient.builder())
        .build();
  }

  /**
   * Starts the emulator chosen by {@value #SWITCH_ENV} (moto unless it says {@code localstack}).
   */
  static AwsEmulator start(String region) {
    return switch (chosen()) {
      case "moto" -> MotoServer.start(region);
      case "localstack" -> LocalStackEmulator.start(region);
      default ->
          throw new IllegalStateException(
              SWITCH_ENV
                  + "="
                  + System.getenv(SWITCH_ENV)
                  + " is not known: use moto or localstack");
    };
  }

  static AwsEmulator start() {
    return start(DEFAULT_REGION);
  }

  /**
   * The switch's value. moto unless asked otherwise, even where a Docker engine answers: CI must
   * not change emulator because a machine happens to run Docker.
   */
  static String chosen() {
    return Optional.ofNullable(System.getenv(SWITCH_ENV))
        .map(String::trim)
        .filter(s -> !s.isEmpty())
        .map(s -> s.toLowerCase(Locale.ROOT))
        .orElse("moto");
  }
}
