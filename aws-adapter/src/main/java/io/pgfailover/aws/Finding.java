package io.pgfailover.aws;

import java.util.Objects;
import java.util.Optional;

/**
 * One preflight check's verdict.
 *
 * @param subject what was checked, e.g. {@code rtb-0123abcd} or {@code permission ec2:ReplaceRoute}
 * @param fix what an operator does about a WARN or FAIL, e.g. a CLI command
 */
public record Finding(Severity severity, String subject, String message, Optional<String> fix) {
  public enum Severity {
    OK,
    /** Works, but not as it should, or could not be checked. */
    WARN,
    /** Failover would not work: fix before starting. */
    FAIL
  }

  public Finding {
    Objects.requireNonNull(severity, "severity");
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(fix, "fix");
  }

  public static Finding ok(String subject, String message) {
    return new Finding(Severity.OK, subject, message, Optional.empty());
  }

  public static Finding warn(String subject, String message, String fix) {
    return new Finding(Severity.WARN, subject, message, Optional.ofNullable(fix));
  }

  public static Finding fail(String subject, String message, String fix) {
    return new Finding(Severity.FAIL, subject, message, Optional.ofNullable(fix));
  }

  @Override
  public String toString() {
    return severity + " " + subject + ": " + message + fix.map(f -> " (fix: " + f + ")").orElse("");
  }
}
