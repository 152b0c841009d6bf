package io.pgfailover.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * The NAT/control instances and the PostgreSQL instances (for the node agent) install the jar only
 * when it has the SHA-256 the stack was given: the template's one install step (install_jar, shared
 * by both boot scripts) is run here with bash, a stand-in for {@code aws s3 cp} and the real {@code
 * sha256sum}; so is the other shared step, secret_value, with a stand-in for Secrets Manager.
 */
class JarChecksumBootTest {
  private static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();
  private static final byte[] JAR = "the jar that was built".getBytes(StandardCharsets.UTF_8);

  @TempDir Path dir;

  @Test
  void theStackTakesTheJarsChecksumAsAParameterWithoutADefault() throws IOException {
    Map<String, Object> parameter = map(map(template().get("Parameters")).get("ArtifactSha256"));
    assertEquals("^[0-9a-fA-F]{64}$", parameter.get("AllowedPattern"));
    assertNull(parameter.get("Default"), "a checksum must come from the build");
    JsonNode example =
        new ObjectMapper().readTree(REPO.resolve("cloudformation/params/example.json").toFile());
    boolean listed = false;
    for (JsonNode p : example) {
      if (p.path("ParameterKey").asText().equals("ArtifactSha256")) {
        listed = p.path("ParameterValue").asText().matches("[0-9a-fA-F]{64}");
      }
    }
    assertTrue(listed, "the example parameters file has a well-formed ArtifactSha256");
  }

  @Test
  void theExampleParametersFileNamesEveryParameterButTheImage() throws IOException {
    Set<String> listed = new TreeSet<>();
    new ObjectMapper()
        .readTree(REPO.resolve("cloudformation/params/example.json").toFile())
        .forEach(p -> listed.add(p.path("ParameterKey").asText()));
    Set<String> parameters = new TreeSet<>(map(template().get("Parameters")).keySet());
    parameters.remove("ImageId"); // the SSM parameter's latest Amazon Linux 2023
    assertEquals(parameters, listed);
  }

  @Test
  void bothBootScriptsInstallTheJarThroughTheOneSharedStep() throws IOException {
    for (String lt : List.of("NatLaunchTemplate", "DbLaunchTemplate")) {
      String script = CloudFormationPolicyTest.bootScript(template(), lt);
      assertTrue(
          script.contains(
              "\nREGION=${AWS::Region}\nARTIFACT_URL='${ArtifactUrl}'\n"
                  + "ARTIFACT_SHA256=${ArtifactSha256}\n${BootFunctions}\n"),
          lt + " sets the step's variables from the parameters, then inserts it");
      assertTrue(script.contains("\ninstall_jar\n") || script.contains("  install_jar\n"), lt);
      assertFalse(script.contains("aws s3 cp") || script.contains("sha256sum"), lt + ": no copy");
    }
  }

  @Test
  void aJarWithTheGivenChecksumIsInstalled() throws Exception {
    Boot boot = boot(sha256(JAR));
    assertEquals(0, boot.exit, boot.log);
    assertEquals(new String(JAR, StandardCharsets.UTF_8), Files.readString(installed()));
  }

  @Test
  void aJarWithAnotherChecksumFailsTheBootAndIsNotInstalled() throws Exception {
    String other = sha256("another build".getBytes(StandardCharsets.UTF_8));
    Boot boot = boot(other);
    assertNotEquals(0, boot.exit, boot.log);
    assertFalse(Files.exists(installed()), "no jar installed");
    try (var left = Files.list(dir.resolve("opt"))) {
      assertEquals(List.of(), left.toList(), "no download left behind");
    }
    assertTrue(
        boot.log.contains(
            "bootstrap FAILED: s3://bucket/failoverctl.jar does not match ArtifactSha256 "
                + other
                + "; not installing it."),
        boot.log);
  }

  /** The other shared step: one field of a secret, into an owner-only file, through a pipe. */
  @Test
  void secretValueWritesOneFieldOfTheSecretIntoAnOwnerOnlyFile() throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    // aws secretsmanager get-secret-value ... --output text: the secret's JSON, as the CLI prints
    // it.
    Path aws =
        Files.writeString(
            bin.resolve("aws"),
            "#!/bin/sh\necho '{\"username\": \"replicator\", \"token\": \"s3cr3t-t0ken\"}'\n");
    Files.setPosixFilePermissions(aws, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path file = dir.resolve("agent-token");
    String step =
        "REGION=eu-west-1\n"
            + CloudFormationPolicyTest.functions(template())
            + "(umask 077\n  secret_value 'arn:secret' token >"
            + file
            + ")\n";
    ProcessBuilder pb =
        new ProcessBuilder("bash", "-c", "set -euo pipefail\n" + step).redirectErrorStream(true);
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), output);
    assertEquals("s3cr3t-t0ken", Files.readString(file), "the field alone, no newline");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
  }

  private record Boot(int exit, String log) {}

  /** Runs the boot script's jar step as the instance would, against a stand-in bucket. */
  private Boot boot(String checksum) throws Exception {
    Path opt = Files.createDirectories(dir.resolve("opt"));
    Path object = Files.write(dir.resolve("bucket-object"), JAR);
    Path bin = Files.createDirectories(dir.resolve("bin"));
    // aws s3 cp --region R URL DEST: the bucket's object lands at DEST.
    Path aws = Files.writeString(bin.resolve("aws"), "#!/bin/sh\ncp '" + object + "' \"$6\"\n");
    Files.setPosixFilePermissions(aws, PosixFilePermissions.fromString("rwxr-xr-x"));
    // The variables as the boot scripts set them
    // (bothBootScriptsInstallTheJarThroughTheOneSharedStep).
    String step =
        "REGION=eu-west-1\nARTIFACT_URL='s3://bucket/failoverctl.jar'\nARTIFACT_SHA256="
            + checksum
            + "\n"
            + CloudFormationPolicyTest.functions(template())
                .replace("/opt/pgfailover", opt.toString())
            + "install_jar\n";
    Path log = dir.resolve("bootstrap.log");
    ProcessBuilder pb =
        new ProcessBuilder("bash", "-c", "set -euo pipefail\n" + step)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile());
    pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
    int exit = pb.start().waitFor();
    return new Boot(exit, Files.readString(log));
  }

  private Path installed() {
    return dir.resolve("opt/failoverctl.jar");
  }

  private static Map<String, Object> template() throws IOException {
    return map(
        new Yaml(new CloudFormationPolicyTest.CfnConstructor())
            .load(Files.readString(REPO.resolve("cloudformation/pgfailover.yaml"))));
  }

  private static String sha256(byte[] bytes) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    assertTrue(o instanceof Map, "expected a mapping, got " + o);
    return (Map<String, Object>) o;
  }
}
