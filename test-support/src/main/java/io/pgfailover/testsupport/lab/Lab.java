package io.pgfailover.testsupport.lab;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgfailover.testsupport.aws.AwsEmulator;
import io.pgfailover.testsupport.aws.VpcFixture;
import io.pgfailover.testsupport.pg.PgNode;
import io.pgfailover.testsupport.pg.PostgresPair;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import software.amazon.awssdk.services.ec2.Ec2Client;

/**
 * The local default environment, as a supervisor process: the AWS emulator with a fixture (VPC, two
 * subnets, two instances with ENIs, route tables, the virtual-IP route) matching a real PostgreSQL
 * primary and streaming standby on loopback, and a ready controller config. {@code scripts/lab.sh
 * up} starts it in the background and waits for {@code state.json}; SIGTERM ({@code lab.sh down})
 * stops and removes everything, because the servers are this process's children and its shutdown
 * hooks stop them.
 */
public final class Lab {
  static final ObjectMapper JSON = new ObjectMapper();

  private Lab() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: Lab LAB_DIR   (run by scripts/lab.sh up)");
      System.exit(2);
    }
    Path dir = Path.of(args[0]).toAbsolutePath().normalize();
    Files.createDirectories(dir);
    CountDownLatch forever = new CountDownLatch(1);
    AwsEmulator aws = AwsEmulator.start();
    PostgresPair pair = PostgresPair.start(dir.resolve("pg"));
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  pair.close();
                  aws.close();
                },
                "lab-down"));
    VpcFixture vpc;
    try (Ec2Client ec2 = aws.newEc2Client()) {
      vpc = VpcFixture.builder(ec2).clusterName("lab").routeTables(2).create();
    }
    Path password = secret(dir.resolve("pg-password"), PostgresPair.SUPERUSER_PASSWORD);
    byte[] tokenBytes = new byte[24];
    new SecureRandom().nextBytes(tokenBytes);
    Path token =
        secret(
            dir.resolve("admin-token"),
            Base64.getUrlEncoder().withoutPadding().encodeToString(tokenBytes));
    int adminPort = freePort();
    PgNode a = pair.primary();
    PgNode b = pair.standby();
    List<Node> nodes =
        List.of(new Node("pg-a", a, vpc.primary()), new Node("pg-b", b, vpc.standby()));
    Path config = dir.resolve("controller.yaml");
    List<LabConfig.Binding> bindings =
        nodes.stream().map(n -> LabConfig.Binding.of(n.name(), n.pg(), n.ec2())).toList();
    Files.writeString(
        config,
        new LabConfig(
                aws.endpoint(),
                aws.region(),
                vpc,
                bindings,
                password,
                token,
                adminPort,
                dir.resolve("events.jsonl"),
                LabConfig.DEFAULT_PROBE,
                LabConfig.DEFAULT_FAILOVER)
            .render());

    ObjectNode state = JSON.createObjectNode();
    state.put("config", config.toString());
    state.put("aws_endpoint", aws.endpoint().toString());
    state.put("region", aws.region());
    state.put("vip", vpc.vipCidr());
    ArrayNode tables = state.putArray("route_tables");
    vpc.routeTableIds().forEach(tables::add);
    ArrayNode ns = state.putArray("nodes");
    for (Node n : nodes) {
      ObjectNode j = ns.addObject();
      j.put("name", n.name());
      j.put("host", n.pg().host());
      j.put("port", n.pg().port());
      j.put("instance_id", n.ec2().instanceId());
      j.put("eni_id", n.ec2().eniId());
      j.put("pid", n.pg().pid());
      j.put("data_dir", n.pg().dataDir().toString());
    }
    state.put("admin_url", "http://127.0.0.1:" + adminPort);
    state.put("event_log", dir.resolve("events.jsonl").toString());
    state.put("supervisor_pid", ProcessHandle.current().pid());
    // Written last and atomically: lab.sh waits for this file as the sign that everything is up.
    Path tmp = dir.resolve("state.json.tmp");
    Files.writeString(tmp, JSON.writeValueAsString(state));
    Files.move(tmp, dir.resolve("state.json"), StandardCopyOption.ATOMIC_MOVE);
    System.out.println("lab up: " + dir.resolve("state.json"));
    forever.await();
  }

  record Node(String name, PgNode pg, VpcFixture.Node ec2) {}

  /** Writes a file only its owner can read (the controller refuses anything laxer). */
  public static Path secret(Path file, String value) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, value + "\n", StandardCharsets.UTF_8);
    return file;
  }

  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
