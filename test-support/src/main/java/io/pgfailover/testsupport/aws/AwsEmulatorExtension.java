package io.pgfailover.testsupport.aws;

import java.net.URI;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * One AWS emulator per test class, emptied before each test.
 *
 * <pre>{@code
 * @RegisterExtension static AwsEmulatorExtension aws = new AwsEmulatorExtension();
 * }</pre>
 *
 * <p>moto_server from the venv by default; LocalStack through Testcontainers when {@code
 * AWS_EMULATOR=localstack}. Must be registered on a static field. A moto server lives for the
 * class; the LocalStack container is started once and shared by every class in the JVM (a start
 * costs seconds to tens of seconds), each class with its own view, closed when all tests are done.
 */
public final class AwsEmulatorExtension
    implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  private final String region;
  private AwsEmulator emulator;
  private Ec2Client ec2;

  public AwsEmulatorExtension() {
    this(AwsEmulator.DEFAULT_REGION);
  }

  public AwsEmulatorExtension(String region) {
    this.region = region;
  }

  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(AwsEmulatorExtension.class);

  @Override
  public void beforeAll(ExtensionContext context) {
    if (AwsEmulator.chosen().equals("localstack")) {
      // The root store closes what it holds (an AutoCloseable) once the whole test plan is done.
      LocalStackEmulator shared =
          context
              .getRoot()
              .getStore(NAMESPACE)
              .getOrComputeIfAbsent(
                  LocalStackEmulator.class,
                  k -> LocalStackEmulator.start(AwsEmulator.DEFAULT_REGION),
                  LocalStackEmulator.class);
      emulator = shared.view(region);
    } else {
      emulator = AwsEmulator.start(region);
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    running().reset();
  }

  @Override
  public void afterAll(ExtensionContext context) {
    try {
      if (ec2 != null) {
        ec2.close();
      }
    } finally {
      ec2 = null;
      if (emulator != null) {
        emulator.close();
        emulator = null;
      }
    }
  }

  public URI endpoint() {
    return running().endpoint();
  }

  public String region() {
    return region;
  }

  /**
   * Credentials for this test's account: test/test on moto; on LocalStack a fresh account per test
   * (the provider follows it, so a client built earlier still works).
   */
  public AwsCredentialsProvider credentialsProvider() {
    return running().credentialsProvider();
  }

  /** The account the credentials act in: moto's fixed one, or this test's on LocalStack. */
  public String accountId() {
    return running().accountId();
  }

  /** "moto" or "localstack". */
  public String emulatorName() {
    return running().name();
  }

  /**
   * A client of any service for fixtures and assertions (SNS, SQS, CloudWatch...), pointed at this
   * emulator with its credentials; the caller closes it. CloudWatch goes through {@link
   * MotoCloudWatch}.
   */
  public <B extends software.amazon.awssdk.awscore.client.builder.AwsClientBuilder<B, C>, C>
      C client(B builder) {
    return builder
        .endpointOverride(endpoint())
        .region(software.amazon.awssdk.regions.Region.of(region))
        .credentialsProvider(credentialsProvider())
        .overrideConfiguration(o -> o.addExecutionInterceptor(new MotoCloudWatch()))
        .build();
  }

  /** A shared EC2 client for fixtures and assertions, closed with the emulator. */
  public synchronized Ec2Client ec2Client() {
    if (ec2 == null) {
      ec2 = running().newEc2Client();
    }
    return ec2;
  }

  private AwsEmulator running() {
    if (emulator == null) {
      throw new IllegalStateException(
          "AWS emulator not running: register AwsEmulatorExtension on a static field with"
              + " @RegisterExtension");
    }
    return emulator;
  }
}
