package io.pgfailover.aws;

import io.pgfailover.testsupport.aws.AwsEmulatorExtension;
import java.util.function.UnaryOperator;

/** AwsClients pointed at the test emulator, with a fault injector. */
final class Emulated {
  private Emulated() {}

  static AwsSettings settings(AwsEmulatorExtension aws) {
    return AwsSettings.defaults(aws.region()).withEndpoint(aws.endpoint());
  }

  static AwsClients clients(AwsEmulatorExtension aws, FaultInjector faults) {
    return clients(aws, faults, UnaryOperator.identity());
  }

  static AwsClients clients(
      AwsEmulatorExtension aws, FaultInjector faults, UnaryOperator<AwsSettings> tweak) {
    return AwsClients.builder(tweak.apply(settings(aws)))
        .credentialsProvider(aws.credentialsProvider())
        .addInterceptor(faults)
        .build();
  }
}
