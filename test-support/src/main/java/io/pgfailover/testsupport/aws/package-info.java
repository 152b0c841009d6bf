/**
 * The AWS emulator for tests: {@link io.pgfailover.testsupport.aws.AwsEmulatorExtension} (JUnit 5),
 * {@link io.pgfailover.testsupport.aws.AwsEmulator} (plain Java, for benchmarks) and {@link
 * io.pgfailover.testsupport.aws.VpcFixture}, a deployment's VPC, instances and route tables.
 */
package io.pgfailover.testsupport.aws;
