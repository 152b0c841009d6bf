package io.pgfailover.controller.cli;

import io.pgfailover.controller.config.ConfigException;
import io.pgfailover.controller.config.FailoverPolicy;
import io.pgfailover.controller.config.PasswordConfig;
import io.pgfailover.controller.config.StackConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.cloudformation.CloudFormationClient;
import software.amazon.awssdk.services.cloudformation.CloudFormationClientBuilder;
import software.amazon.awssdk.services.cloudformation.model.CloudFormationException;
import software.amazon.awssdk.services.cloudformation.model.Output;
import software.amazon.awssdk.services.cloudformation.model.Stack;
import software.amazon.awssdk.services.cloudformation.model.StackStatus;

/**
 * {@code failoverctl config from-stack}: writes the controller's configuration from the outputs of
 * the pgfailover CloudFormation stack. The NAT/control instance's boot script runs it (and retries
 * until the stack is complete); an operator can run it anywhere with credentials that may call
 * {@code cloudformation:DescribeStacks}.
 *
 * <p>Exit codes ({@link ExitCodes}): 0 written; 1 the stack cannot be read or is not finished; 3
 * its outputs do not make a valid configuration; 4 not allowed to describe the stack; 5 the file
 * exists and --force is absent.
 */
@Command(
    name = "from-stack",
    mixinStandardHelpOptions = true,
    description =
        "Write the controller's config from the outputs of the pgfailover CloudFormation stack.")
public final class ConfigFromStack implements Callable<Integer> {
  /**
   * Finished states whose outputs describe what exists. A failed creation (ROLLBACK_COMPLETE) has
   * none that matter.
   */
  private static final Set<StackStatus> USABLE =
      Set.of(
          StackStatus.CREATE_COMPLETE,
          StackStatus.UPDATE_COMPLETE,
          StackStatus.UPDATE_ROLLBACK_COMPLETE,
          StackStatus.IMPORT_COMPLETE,
          StackStatus.IMPORT_ROLLBACK_COMPLETE);

  private static final Duration CALL_TIMEOUT = Duration.ofSeconds(20);
  private static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(5);

  @Option(
      names = "--stack",
      required = true,
      paramLabel = "NAME",
      description = "the stack name (or id)")
  String stack;

  @Option(
      names = "--region",
      paramLabel = "REGION",
      description = "the stack's region (default: AWS_REGION or the profile's region)")
  String region;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description = "CloudFormation (and EC2) endpoint of an emulator; also written to the config")
  URI endpoint;

  @Option(
      names = "--out",
      paramLabel = "FILE",
      description = "where to write the config (default: standard output)")
  Path out;

  @Option(
      names = "--this-instance",
      paramLabel = "ID",
      description =
          "the NAT/control instance this config is for: names it in the lease and sets up NAT"
              + " egress failover for the peer AZ")
  String thisInstance;

  @Option(names = "--force", description = "overwrite --out if it exists")
  boolean force;

  @Option(
      names = "--fencing",
      paramLabel = "MODE",
      defaultValue = "none",
      description =
          "failover.fencing in the config: none (default) or stop-instance (the stack's role may"
              + " stop this cluster's instances)")
  String fencing;

  @ArgGroup(exclusive = true, multiplicity = "0..1")
  PasswordSource password;

  /** Where the controller will find the database password: never the password itself. */
  static final class PasswordSource {
    @Option(
        names = "--password-file",
        paramLabel = "FILE",
        description =
            "a file (mode 0600) holding the password (default: "
                + StackConfig.DEFAULT_PASSWORD_FILE
                + ", which the stack writes)")
    Path file;

    @Option(
        names = "--password-env",
        paramLabel = "VAR",
        description = "an environment variable holding the password")
    String env;

    @Option(
        names = "--pgpass",
        description = "use the libpq password file (~/.pgpass or PGPASSFILE)")
    boolean pgpass;

    PasswordConfig toConfig() {
      if (env != null) {
        return new PasswordConfig(PasswordConfig.Kind.ENV, env);
      }
      if (pgpass) {
        return new PasswordConfig(PasswordConfig.Kind.PGPASS, "");
      }
      return new PasswordConfig(PasswordConfig.Kind.FILE, file.toString());
    }
  }

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    PrintWriter err = spec.commandLine().getErr();
    if (out != null && Files.exists(out) && !force) {
      err.println("failoverctl: refusing to overwrite " + out + ": pass --force to replace it");
      err.flush();
      return ExitCodes.REFUSED;
    }
    FailoverPolicy.Fencing fencingMode;
    try {
      fencingMode =
          FailoverPolicy.Fencing.valueOf(fencing.trim().replace('-', '_').toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      err.println("failoverctl: --fencing " + fencing + " is not known: use none or stop-instance");
      err.flush();
      return ExitCodes.USAGE;
    }
    StackConfig.Options options =
        new StackConfig.Options(
            password == null ? StackConfig.Options.defaults().password() : password.toConfig(),
            Optional.ofNullable(endpoint),
            fencingMode,
            Optional.ofNullable(thisInstance));

    Stack described;
    try (CloudFormationClient cfn = client()) {
      described =
          cfn.describeStacks(r -> r.stackName(stack)).stacks().stream().findFirst().orElse(null);
    } catch (CloudFormationException e) {
      boolean denied =
          e.statusCode() == 403
              || Optional.ofNullable(e.awsErrorDetails())
                  .map(d -> d.errorCode())
                  .filter(c -> c.contains("AccessDenied"))
                  .isPresent();
      if (denied) {
        err.println(
            "failoverctl: not allowed to describe stack "
                + stack
                + ": "
                + e.awsErrorDetails().errorMessage()
                + " (fix: allow cloudformation:DescribeStacks on the stack for these credentials)");
        err.flush();
        return ExitCodes.PERMISSION;
      }
      err.println(
          "failoverctl: cannot read stack "
              + stack
              + ": "
              + message(e)
              + " (fix: check the stack name and --region)");
      err.flush();
      return ExitCodes.FAILED;
    } catch (SdkClientException e) {
      err.println(
          "failoverctl: cannot reach CloudFormation: "
              + e.getMessage()
              + " (fix: pass --region, and check credentials and network)");
      err.flush();
      return ExitCodes.FAILED;
    }
    if (described == null) {
      err.println("failoverctl: stack " + stack + " not found (fix: check the name and --region)");
      err.flush();
      return ExitCodes.FAILED;
    }
    if (!USABLE.contains(described.stackStatus())) {
      err.println(
          "failoverctl: stack "
              + stack
              + " is "
              + described.stackStatusAsString()
              + ": its outputs are not final (fix: wait for CREATE_COMPLETE or UPDATE_COMPLETE; a"
              + " failed creation must be deleted and deployed again)");
      err.flush();
      return ExitCodes.FAILED;
    }
    Map<String, String> outputs = new LinkedHashMap<>();
    for (Output o : described.outputs()) {
      outputs.put(o.outputKey(), o.outputValue());
    }

    String yaml;
    try {
      yaml = StackConfig.render(stack, outputs, options);
    } catch (ConfigException e) {
      err.println(e.getMessage());
      err.flush();
      return ExitCodes.CONFIG;
    }
    if (out == null) {
      spec.commandLine().getOut().print(yaml);
      spec.commandLine().getOut().flush();
      return ExitCodes.OK;
    }
    try {
      write(out, yaml, force);
    } catch (FileAlreadyExistsException e) {
      err.println(
          "failoverctl: refusing to overwrite "
              + out
              + " (it appeared meanwhile): pass --force to replace it");
      err.flush();
      return ExitCodes.REFUSED;
    }
    err.println(
        "failoverctl: wrote "
            + out
            + " from stack "
            + stack
            + " ("
            + described.stackStatusAsString()
            + "); check it with: failoverctl config check --config "
            + out);
    err.flush();
    return ExitCodes.OK;
  }

  private CloudFormationClient client() {
    CloudFormationClientBuilder b =
        CloudFormationClient.builder()
            .httpClient(
                UrlConnectionHttpClient.builder()
                    .connectionTimeout(ATTEMPT_TIMEOUT)
                    .socketTimeout(ATTEMPT_TIMEOUT)
                    .build())
            .overrideConfiguration(
                o -> o.apiCallTimeout(CALL_TIMEOUT).apiCallAttemptTimeout(ATTEMPT_TIMEOUT));
    if (region != null) {
      b.region(Region.of(region));
    }
    if (endpoint != null) {
      b.endpointOverride(endpoint);
    }
    return b.build();
  }

  /**
   * Writes through a temporary file in the same directory, so a reader never sees half a config.
   */
  private static void write(Path target, String yaml, boolean replace) throws IOException {
    Path dir = target.toAbsolutePath().getParent();
    Path tmp = Files.createTempFile(dir, "." + target.getFileName() + ".", ".tmp");
    try {
      Files.writeString(tmp, yaml, StandardCharsets.UTF_8);
      if (replace) {
        Files.move(
            tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.move(tmp, target); // throws FileAlreadyExistsException rather than replace
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  private static String message(CloudFormationException e) {
    return e.awsErrorDetails() != null && e.awsErrorDetails().errorMessage() != null
        ? e.awsErrorDetails().errorMessage()
        : e.getMessage();
  }
}
