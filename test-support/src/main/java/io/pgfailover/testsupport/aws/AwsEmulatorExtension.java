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
 * <p>moto_server from the venv by default (what CI runs); LocalStack through Testcontainers only
 * when {@code AWS_EMULATOR=localstack}. Must be registered on a static field: the emulator lives
 * for the class.
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

  @Override
  public void beforeAll(ExtensionContext context) {
    emulator = AwsEmulator.start(region);
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

  /** Credentials the emulator accepts (test/test). */
  public AwsCredentialsProvider credentialsProvider() {
    return running().credentialsProvider();
  }

  /** "moto" or "localstack". */
  public String emulatorName() {
    return running().name();
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
