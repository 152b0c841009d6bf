package io.pgfailover.controller.it;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;

/**
 * Counts the AWS requests a controller's clients send, by operation (e.g. {@code ReplaceRoute}),
 * once per request sent: a retried call counts each attempt.
 */
final class AwsCallCounter implements ExecutionInterceptor {
  /** The EC2 calls that change something. */
  static final Set<String> MUTATING = Set.of("ReplaceRoute", "CreateRoute", "StopInstances");

  private final Map<String, AtomicInteger> counts;
  private final Predicate<String> counted;

  /**
   * @param counted which operations to count, by name
   */
  AwsCallCounter(Map<String, AtomicInteger> counts, Predicate<String> counted) {
    this.counts = counts;
    this.counted = counted;
  }

  @Override
  public void beforeTransmission(
      Context.BeforeTransmission context, ExecutionAttributes attributes) {
    String op = context.request().getClass().getSimpleName().replaceFirst("Request$", "");
    if (counted.test(op)) {
      counts.computeIfAbsent(op, k -> new AtomicInteger()).incrementAndGet();
    }
  }
}
