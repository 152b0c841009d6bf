package io.pgfailover.controller.config;

import java.net.URI;
import java.util.Optional;

/**
 * Where the EC2 API is.
 *
 * @param endpoint set only for an emulator (moto, LocalStack); on AWS the SDK resolves the regional
 *     endpoint
 */
public record AwsConfig(String region, Optional<URI> endpoint) {}
