package io.pgfailover.aws;

/** The controller's own instance, from IMDSv2. */
public record SelfIdentity(String instanceId, String region, String availabilityZone) {}
