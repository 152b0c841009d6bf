/**
 * The only module that talks to AWS. Entry point: {@link io.pgfailover.aws.AwsClients} built once
 * from {@link io.pgfailover.aws.AwsSettings}; then {@link io.pgfailover.aws.RouteTables} (read and
 * switch the virtual-IP route), {@link io.pgfailover.aws.Ec2Discovery} and {@link
 * io.pgfailover.aws.Imds} (what is where), {@link io.pgfailover.aws.Preflight} (can a failover
 * work?) and {@link io.pgfailover.aws.InstanceFencing} (stop the old primary). AWS failures are
 * {@link io.pgfailover.aws.AwsError} values in results, or an {@link
 * io.pgfailover.aws.AwsCallException} where a method has nothing else to return.
 */
package io.pgfailover.aws;
