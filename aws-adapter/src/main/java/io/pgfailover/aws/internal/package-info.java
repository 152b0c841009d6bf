/** Retry policy, error classification and CIDR arithmetic behind the public adapter API. */
package io.pgfailover.aws.internal;
