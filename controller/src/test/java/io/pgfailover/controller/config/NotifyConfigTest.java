package io.pgfailover.controller.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgfailover.controller.cli.ExitCodes;
import io.pgfailover.controller.cli.Failoverctl;
import io.pgfailover.controller.notify.NotableEvent;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code notify:} and {@code cloudwatch:} blocks: what they mean, and every error pinned. */
class NotifyConfigTest {
  @TempDir Path dir;

  /** minimal() ends on line 10; a block appended starts on line 11. */
  static String with(String block) {
    return ConfigLoaderTest.minimal() + block;
  }

  Path hook(String name, String mode) throws Exception {
    Path p = Files.writeString(dir.resolve(name), "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(mode));
    return p;
  }

  @Test
  void aFullBlockIsReadWithItsDefaults() throws Exception {
    Path hook = hook("page", "rwxr-xr-x");
    String yaml =
        with(
            String.join(
                "\n",
                "notify:",
                "  command: [" + hook + ", --team, db]",
                "  commandTimeout: 3s",
                "  sns: {topicArn: 'arn:aws:sns:us-east-1:123456789012:pgfailover-prod'}",
                "  events: [failover_finished, failover_failed]",
                "cloudwatch: {namespace: PgFailover/Prod}",
                ""));
    ControllerConfig c = ConfigLoader.parse(yaml, "n.yaml", v -> null);
    NotifyConfig n = c.notifications();
    assertEquals(Optional.of(List.of(hook.toString(), "--team", "db")), n.command());
    assertEquals(Duration.ofSeconds(3), n.commandTimeout());
    assertEquals(
        Optional.of("arn:aws:sns:us-east-1:123456789012:pgfailover-prod"), n.snsTopicArn());
    assertEquals(Set.of(NotableEvent.FAILOVER_FINISHED, NotableEvent.FAILOVER_FAILED), n.events());
    assertEquals(NotifyConfig.DEFAULT_QUEUE, n.queue());
    assertEquals(NotifyConfig.DEFAULT_DEADLINE, n.deadline());
    assertEquals(
        Optional.of(new CloudWatchConfig("PgFailover/Prod", CloudWatchConfig.DEFAULT_INTERVAL)),
        c.cloudWatch());
  }

  @Test
  void withoutTheBlocksNothingIsSent() throws Exception {
    ControllerConfig c = ConfigLoader.parse(ConfigLoaderTest.minimal(), "n.yaml");
    assertEquals(NotifyConfig.NONE, c.notifications());
    assertEquals(Set.of(NotableEvent.values()), c.notifications().events());
    assertEquals(Optional.empty(), c.cloudWatch());
  }

  @Test
  void everyNotifyErrorNamesItsLineValueAndFix() throws Exception {
    Path notExecutable = hook("page", "rw-r--r--");
    String yaml =
        with(
            String.join(
                "\n",
                "notify:", // 11
                "  command: [" + notExecutable + "]", // 12
                "  commandTimeout: 10m", // 13
                "  sns: {topicArn: 'arn:aws:sns:eu-west-1:123456789012:pgfailover-prod'}", // 14
                "  events: [failover_finished, failover_done]", // 15
                "  queue: 0", // 16
                "cloudwatch: {namespace: AWS/EC2, interval: 100ms}", // 17
                ""));
    List<String> lines = errors(yaml, true);
    assertEquals(
        List.of(
            "n.yaml:12: notify.command[0]: "
                + notExecutable
                + " is not executable. Fix: chmod 755 "
                + notExecutable,
            "n.yaml:14: notify.sns.topicArn: is in region eu-west-1, not in aws.region"
                + " (us-east-1). Fix: use a topic in us-east-1 (the stack's NotificationTopicArn"
                + " output), or fix aws.region",
            "n.yaml:15: notify.events[1]: \"failover_done\" is not a notable event. Fix: write one"
                + " of failover_started, failover_finished, failover_failed, switchover,"
                + " rejoin_started, rejoin_finished, rejoin_failed, alarm_raised, alarm_cleared,"
                + " lease_acquired, lease_lost, controller_started, controller_stopping",
            "n.yaml:16: notify.queue: 0 is out of range. Fix: use a whole number from 1 to 10000",
            "n.yaml:13: notify.commandTimeout: 600000 ms is not shorter than notify.deadline"
                + " (300000 ms). Fix: make notify.commandTimeout shorter than notify.deadline (10s"
                + " and 5m are the defaults)",
            "n.yaml:17: cloudwatch.namespace: \"AWS/EC2\" is not a CloudWatch namespace of your"
                + " own. Fix: write letters, digits and . - _ / # : (not starting with AWS/), e.g."
                + " PgFailover",
            "n.yaml:17: cloudwatch.interval: is below 1s. Fix: use 1s or more (60s matches"
                + " CloudWatch's standard resolution)"),
        lines);
  }

  @Test
  void aMissingHookARelativeOneAndNoChannelAreRefused() throws Exception {
    Path missing = dir.resolve("no-such-hook");
    assertEquals(
        List.of(
            "n.yaml:11: notify.command[0]: "
                + missing
                + " does not exist (or is not a file). Fix: install the hook at "
                + missing
                + ", or fix the path"),
        errors(with("notify: {command: [" + missing + "]}\n"), true));
    assertEquals(
        List.of(
            "n.yaml:11: notify.command[0]: \"page-oncall\" is not an absolute path. Fix: write the"
                + " hook's full path, e.g. /usr/local/bin/page-oncall"),
        errors(with("notify: {command: [page-oncall]}\n"), true));
    assertEquals(
        List.of(
            "n.yaml:11: notify: has no channel. Fix: add command: [/usr/local/bin/page-oncall] or"
                + " sns: {topicArn: arn:aws:sns:us-east-1:123456789012:pgfailover-prod}, or"
                + " remove notify"),
        errors(with("notify: {queue: 10}\n"), true));
    assertEquals(
        List.of(
            "n.yaml:11: notify.sns.topicArn: \"arn:aws:sqs:us-east-1:123456789012:q\" is not an"
                + " SNS topic ARN. Fix: write it like"
                + " arn:aws:sns:us-east-1:123456789012:pgfailover-prod"),
        errors(with("notify: {sns: {topicArn: 'arn:aws:sqs:us-east-1:123456789012:q'}}\n"), true));
  }

  @Test
  void aConfigWrittenForAnotherHostIsNotCheckedForTheHookFile() throws Exception {
    // config from-stack checks the structure only: the hook lives on the controller's host.
    ControllerConfig c =
        ConfigLoader.parse(with("notify: {command: [/usr/local/bin/page-oncall]}\n"), "n.yaml");
    assertEquals(Optional.of(List.of("/usr/local/bin/page-oncall")), c.notifications().command());
  }

  @Test
  void configCheckReportsABadNotifyBlockWithLineAndFix() throws Exception {
    Path config =
        Files.writeString(
            dir.resolve("c.yaml"),
            with(
                "notify:\n"
                    + "  command: ["
                    + dir.resolve("gone")
                    + "]\n"
                    + "  sns: {topicArn: 'arn:aws:sns:eu-west-1:123456789012:t'}\n"));
    StringWriter err = new StringWriter();
    int code =
        Failoverctl.execute(
            new PrintWriter(new StringWriter(), true),
            new PrintWriter(err, true),
            "config",
            "check",
            "-c",
            config.toString());
    assertEquals(ExitCodes.CONFIG, code, err.toString());
    assertTrue(
        err.toString().contains(config + ":12: notify.command[0]: " + dir.resolve("gone")),
        err.toString());
    assertTrue(
        err.toString()
            .contains(
                config
                    + ":13: notify.sns.topicArn: is in region eu-west-1, not in aws.region"
                    + " (us-east-1). Fix: use a topic in us-east-1"),
        err.toString());
  }

  private static List<String> errors(String yaml, boolean thisHost) {
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> {
              if (thisHost) {
                ConfigLoader.parse(yaml, "n.yaml", Map.<String, String>of()::get);
              } else {
                ConfigLoader.parse(yaml, "n.yaml");
              }
            });
    return e.errors().stream().map(ConfigError::toString).toList();
  }
}
