package io.pgfailover.testsupport.aws;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.localstack.LocalStackContainer;
import org.testcontainers.utility.DockerImageName;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * LocalStack through Testcontainers, chosen with {@code AWS_EMULATOR=localstack}.
 *
 * <p>The image is built on this machine by {@code scripts/lib/localstack.sh} from the recipe in
 * {@code emulators/localstack/} (no image registry is reachable where the tests run), and tagged so
 * that Testcontainers' {@link LocalStackContainer} accepts it as {@code localstack/localstack}.
 *
 * <p>Resetting: LocalStack's community edition has no state-reset endpoint, so {@link #reset()}
 * moves to a fresh AWS account instead. LocalStack takes a 12-digit access key id as the account
 * id, and every account starts empty; the credentials provider follows the current account.
 */
final class LocalStackEmulator implements AwsEmulator {
  private static final Logger log = LoggerFactory.getLogger(LocalStackEmulator.class);

  /** The LocalStack release the recipe installs; {@code LocalStackRecipeTest} pins the two. */
  static final String VERSION = "2026.3.0";

  /** Overrides the image, e.g. LocalStack's own {@code localstack/localstack:<tag>} on a laptop. */
  static final String IMAGE_ENV = "PGFAILOVER_LOCALSTACK_IMAGE";

  static final String DEFAULT_IMAGE = "pgfailover/localstack:" + VERSION;

  /**
   * The container is started once per JVM by the test extension; a cold start (services loaded on
   * first call) takes seconds on a loaded 2-core machine, tens of seconds on the vfs driver.
   */
  private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(3);

  /** Accounts handed out by {@link #reset()}: 12 digits, unique within one container's life. */
  private static final AtomicLong NEXT_ACCOUNT = new AtomicLong(100_000_000_001L);

  /**
   * Resource types the image's CloudFormation skips on purpose, beyond those LocalStack's community
   * edition has no provider for (StackOnEmulatorIT lists both).
   */
  static final List<String> SKIPPED_BY_CLOUDFORMATION =
      List.of("AWS::DynamoDB::Table", "AWS::IAM::Role", "AWS::IAM::InstanceProfile");

  /** What the default credentials ("test") map to before the first reset. */
  private static final String DEFAULT_ACCOUNT = "000000000000";

  private final LocalStackContainer container;

  /** Stops the container at JVM exit if nobody closed it; empty for a view. */
  private final Optional<Thread> shutdownHook;

  private final String region;
  private volatile String accountId = DEFAULT_ACCOUNT;

  private LocalStackEmulator(
      LocalStackContainer container, Optional<Thread> shutdownHook, String region) {
    this.container = container;
    this.shutdownHook = shutdownHook;
    this.region = region;
  }

  /** Starts a container that {@link #close()} stops. */
  static LocalStackEmulator start(String region) {
    LocalStackContainer container = startContainer();
    Thread hook = new Thread(container::stop, "localstack-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    return new LocalStackEmulator(container, Optional.of(hook), region);
  }

  /**
   * A view on this container that the owner stops: the test extension shares one container per JVM
   * (a start costs seconds to tens of seconds) and gives each test class its own view, with its own
   * region and account. Closing a view does nothing.
   */
  LocalStackEmulator view(String region) {
    return new LocalStackEmulator(container, Optional.empty(), region);
  }

  private static LocalStackContainer startContainer() {
    DockerImageName image = image();
    requireDockerAndImage(image);
    LocalStackContainer container =
        new LocalStackContainer(image)
            // hypercorn: the default server (twisted) did not serve outside LocalStack's own image
            .withEnv("GATEWAY_SERVER", "hypercorn")
            // Nothing leaves the machine: no analytics, no DNS server forwarding upstream, no
            // certificate download.
            .withEnv("DISABLE_EVENTS", "1")
            .withEnv("DNS_ADDRESS", "0")
            .withEnv("SKIP_SSL_CERT_DOWNLOAD", "1")
            // The image has no DynamoDB (scripts/lib/localstack.sh says why): CloudFormation skips
            // the lease table and the IAM resources whose policy names it.
            .withEnv(
                "CFN_IGNORE_UNSUPPORTED_TYPE_CREATE", String.join(",", SKIPPED_BY_CLOUDFORMATION))
            .withStartupTimeout(STARTUP_TIMEOUT)
            // The image is built here, never pulled: requireDockerAndImage checked it is present.
            .withImagePullPolicy(name -> false);
    // scripts/test.sh labels its run's containers and removes them afterwards, whatever happened
    // to this JVM (Ryuk, which would otherwise do that, cannot be pulled here).
    Optional.ofNullable(System.getenv("PGFAILOVER_RUN_ID"))
        .filter(s -> !s.isBlank())
        .ifPresent(id -> container.withLabel("io.pgfailover.run", id));
    container.start();
    log.info(
        "event=localstack_started image={} container={} endpoint={}",
        image.asCanonicalNameString(),
        container.getContainerId(),
        container.getEndpoint());
    return container;
  }

  static DockerImageName image() {
    String name =
        Optional.ofNullable(System.getenv(IMAGE_ENV))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .orElse(DEFAULT_IMAGE);
    return DockerImageName.parse(name).asCompatibleSubstituteFor("localstack/localstack");
  }

  /**
   * Fails at once with what to do, instead of an image pull that retries for minutes: no image
   * registry is reachable here, and Testcontainers pulls images of its own unless told not to.
   */
  private static void requireDockerAndImage(DockerImageName image) {
    List<String> missing =
        missingTestcontainersSettings(System.getenv(), Files.exists(Path.of("/.dockerenv")));
    if (!missing.isEmpty()) {
      throw new IllegalStateException(
          "AWS_EMULATOR=localstack needs these environment variables (scripts/test.sh and"
              + " scripts/lib/localstack.sh set them): "
              + String.join("; ", missing));
    }
    if (!DockerClientFactory.instance().isDockerAvailable()) {
      throw new IllegalStateException(
          "AWS_EMULATOR=localstack but no Docker engine answers (DOCKER_HOST="
              + Optional.ofNullable(System.getenv("DOCKER_HOST")).orElse("<unset>")
              + "): run scripts/test.sh, which starts one as root on Debian, or start Docker and"
              + " export DOCKER_HOST; or use AWS_EMULATOR=moto");
    }
    if (image.asCanonicalNameString().equals("docker.io/" + DEFAULT_IMAGE)
        || image.asCanonicalNameString().equals(DEFAULT_IMAGE)) {
      try {
        DockerClientFactory.instance()
            .client()
            .inspectImageCmd(image.asCanonicalNameString())
            .exec();
      } catch (com.github.dockerjava.api.exception.NotFoundException e) {
        throw new IllegalStateException(
            "image "
                + DEFAULT_IMAGE
                + " not found on this Docker engine: build it with"
                + " scripts/lib/localstack.sh (scripts/test.sh does), or set "
                + IMAGE_ENV
                + " to a LocalStack image you have",
            e);
      }
    }
  }

  /**
   * Testcontainers settings that keep it from pulling images, read only from the environment (or
   * the user's ~/.testcontainers.properties, which a project must not write).
   */
  static List<String> missingTestcontainersSettings(Map<String, String> env, boolean inContainer) {
    List<String> missing = new ArrayList<>();
    if (!"true".equalsIgnoreCase(env.get("TESTCONTAINERS_RYUK_DISABLED"))) {
      missing.add(
          "TESTCONTAINERS_RYUK_DISABLED=true (Ryuk, the reaper, is an image; the emulator stops"
              + " its own container and scripts/test.sh removes what a killed run left)");
    }
    if (!"true".equalsIgnoreCase(env.get("TESTCONTAINERS_CHECKS_DISABLE"))) {
      missing.add("TESTCONTAINERS_CHECKS_DISABLE=true (the start-up checks run an alpine image)");
    }
    if (inContainer && env.getOrDefault("TESTCONTAINERS_HOST_OVERRIDE", "").isBlank()) {
      missing.add(
          "TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1 (inside a container Testcontainers finds the"
              + " Docker host's address by running an alpine image)");
    }
    return missing;
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
  public String accountId() {
    return accountId;
  }

  /** Reads the account at each request, so clients built before a reset follow it. */
  @Override
  public AwsCredentialsProvider credentialsProvider() {
    return () ->
        DEFAULT_ACCOUNT.equals(accountId)
            ? AwsEmulator.CREDENTIALS.resolveCredentials()
            : AwsBasicCredentials.create(accountId, "test");
  }

  @Override
  public void reset() {
    accountId = String.format("%012d", NEXT_ACCOUNT.getAndIncrement());
  }

  @Override
  public void close() {
    if (shutdownHook.isEmpty()) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook.get());
    } catch (IllegalStateException shuttingDown) {
      // the hook itself is running or about to
    }
    String id = container.getContainerId();
    container.stop();
    log.info("event=localstack_stopped container={}", id);
  }
}
