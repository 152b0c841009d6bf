package io.pgfailover.aws;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttribute;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.ec2.model.Ec2Exception;

/**
 * Test-only SDK interceptor: counts requests per operation and injects faults.
 *
 * <ul>
 *   <li>{@link #replaceResponse}: the request reaches the emulator, then its answer is replaced by
 *       an EC2 error (status and XML body), so the SDK parses it as it would a real one. For
 *       read-only calls, or where the side effect does not matter.
 *   <li>{@link #failBeforeSending}: the request never leaves (as with an IAM denial or a DryRun
 *       answer).
 *   <li>{@link #afterSuccess}: runs an action once a matching call has succeeded (e.g. another
 *       writer).
 * </ul>
 */
final class FaultInjector implements ExecutionInterceptor {
  static final Set<String> MUTATING =
      Set.of("CreateRoute", "ReplaceRoute", "DeleteRoute", "StopInstances");
  static final int ALWAYS = Integer.MAX_VALUE;

  private static final ExecutionAttribute<Rule> ACTIVE =
      new ExecutionAttribute<>("pgfailover.fault");

  private final Map<String, AtomicInteger> sent = new ConcurrentHashMap<>();
  private final List<Rule> rules = new CopyOnWriteArrayList<>();
  private final List<Consumer<String>> beforeSendHooks = new CopyOnWriteArrayList<>();

  private enum Mode {
    REPLACE_RESPONSE,
    FAIL_BEFORE_SENDING,
    AFTER_SUCCESS
  }

  private record Rule(
      String operation,
      Predicate<SdkRequest> matches,
      AtomicInteger remaining,
      Mode mode,
      int status,
      String code,
      String message,
      Runnable action) {}

  FaultInjector replaceResponse(
      String operation, int times, int status, String code, String message) {
    rules.add(
        new Rule(
            operation,
            r -> true,
            new AtomicInteger(times),
            Mode.REPLACE_RESPONSE,
            status,
            code,
            message,
            null));
    return this;
  }

  FaultInjector failBeforeSending(
      String operation, int times, int status, String code, String message) {
    rules.add(
        new Rule(
            operation,
            r -> true,
            new AtomicInteger(times),
            Mode.FAIL_BEFORE_SENDING,
            status,
            code,
            message,
            null));
    return this;
  }

  FaultInjector afterSuccess(String operation, Predicate<SdkRequest> matches, Runnable action) {
    rules.add(
        new Rule(
            operation, matches, new AtomicInteger(1), Mode.AFTER_SUCCESS, 0, null, null, action));
    return this;
  }

  /** Called with the operation name just before each request is sent (after counting). */
  FaultInjector beforeSending(Consumer<String> hook) {
    beforeSendHooks.add(hook);
    return this;
  }

  /** Requests of this operation that got as far as sending (faulted ones included). */
  int sent(String operation) {
    return sent.getOrDefault(operation, new AtomicInteger()).get();
  }

  int sentMutating() {
    return MUTATING.stream().mapToInt(this::sent).sum();
  }

  @Override
  public void beforeTransmission(
      Context.BeforeTransmission context, ExecutionAttributes attributes) {
    String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    sent.computeIfAbsent(operation, k -> new AtomicInteger()).incrementAndGet();
    beforeSendHooks.forEach(h -> h.accept(operation));
    attributes.putAttribute(ACTIVE, null);
    for (Rule rule : rules) {
      if (rule.mode() == Mode.AFTER_SUCCESS
          || !rule.operation().equals(operation)
          || !rule.matches().test(context.request())) {
        continue;
      }
      if (rule.remaining().getAndUpdate(n -> n > 0 && n != ALWAYS ? n - 1 : n) <= 0) {
        continue;
      }
      if (rule.mode() == Mode.FAIL_BEFORE_SENDING) {
        throw (Ec2Exception)
            Ec2Exception.builder()
                .statusCode(rule.status())
                .message(rule.message())
                .awsErrorDetails(
                    AwsErrorDetails.builder()
                        .errorCode(rule.code())
                        .errorMessage(rule.message())
                        .serviceName("EC2")
                        .sdkHttpResponse(
                            SdkHttpResponse.builder().statusCode(rule.status()).build())
                        .build())
                .build();
      }
      attributes.putAttribute(ACTIVE, rule);
      return;
    }
  }

  @Override
  public SdkHttpResponse modifyHttpResponse(
      Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
    Rule rule = attributes.getAttribute(ACTIVE);
    if (rule == null) {
      return context.httpResponse();
    }
    return context.httpResponse().toBuilder()
        .statusCode(rule.status())
        .putHeader("Content-Length", Integer.toString(body(rule).length))
        .build();
  }

  @Override
  public Optional<InputStream> modifyHttpResponseContent(
      Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
    Rule rule = attributes.getAttribute(ACTIVE);
    if (rule == null) {
      return context.responseBody();
    }
    return Optional.of(new ByteArrayInputStream(body(rule)));
  }

  @Override
  public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
    String operation = attributes.getAttribute(SdkExecutionAttribute.OPERATION_NAME);
    for (Rule rule : rules) {
      if (rule.mode() == Mode.AFTER_SUCCESS
          && rule.operation().equals(operation)
          && rule.matches().test(context.request())
          && rule.remaining().getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        rule.action().run();
      }
    }
  }

  /** EC2's error document, as the query protocol returns it. */
  private static byte[] body(Rule rule) {
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>"
            + rule.code()
            + "</Code><Message>"
            + rule.message()
            + "</Message></Error></Errors>"
            + "<RequestID>00000000-fault-injector</RequestID></Response>")
        .getBytes(StandardCharsets.UTF_8);
  }
}
