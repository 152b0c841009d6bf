package io.pgfailover.testsupport.aws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.cbor.CBORGenerator;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.SdkHttpResponse;

/**
 * Lets the SDK's CloudWatch client talk to moto. The SDK (2.40.6 and later) sends CloudWatch in
 * Smithy RPC v2 CBOR, which moto 5.2 does not serve; it serves the same operations in AWS JSON 1.0
 * (getmoto/moto#9195). Both encode the same model, so this test-only interceptor re-encodes each
 * CloudWatch request as JSON 1.0 and each answer back as CBOR (timestamps as CBOR tag 1, as the
 * protocol has them). Real CloudWatch and LocalStack read CBOR: the interceptor acts on moto only
 * (AWS_EMULATOR), so a test adds it to every client that may talk to CloudWatch.
 */
public final class MotoCloudWatch implements ExecutionInterceptor {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ObjectMapper CBOR = new ObjectMapper(new CBORFactory());

  /** The fields CloudWatch answers with a timestamp (or a list of them) in what the tests read. */
  private static final Set<String> TIMESTAMPS =
      Set.of(
          "Timestamps", "Timestamp", "StateUpdatedTimestamp", "AlarmConfigurationUpdatedTimestamp");

  static boolean applies(ExecutionAttributes attributes) {
    return "CloudWatch".equals(attributes.getAttribute(SdkExecutionAttribute.SERVICE_NAME))
        && "moto".equals(AwsEmulator.chosen());
  }

  @Override
  public SdkHttpRequest modifyHttpRequest(
      Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
    if (!applies(attributes)) {
      return context.httpRequest();
    }
    SdkHttpRequest r = context.httpRequest();
    String operation = r.encodedPath().substring(r.encodedPath().lastIndexOf('/') + 1);
    byte[] json = json(context.requestBody().map(MotoCloudWatch::bytes).orElse(new byte[0]));
    SdkHttpRequest.Builder b = r.toBuilder();
    if (b instanceof software.amazon.awssdk.http.SdkHttpFullRequest.Builder full) {
      // The request may carry its body itself: it must be the JSON too.
      full.contentStreamProvider(() -> new ByteArrayInputStream(json));
    }
    return b.encodedPath("/")
        .removeHeader("smithy-protocol")
        .putHeader("Content-Type", "application/x-amz-json-1.0")
        .putHeader("Accept", "application/json")
        .putHeader("X-Amz-Target", "GraniteServiceVersion20100801." + operation)
        .putHeader("Content-Length", Integer.toString(json.length))
        .build();
  }

  @Override
  public Optional<RequestBody> modifyHttpContent(
      Context.ModifyHttpRequest context, ExecutionAttributes attributes) {
    if (!applies(attributes)) {
      return context.requestBody();
    }
    byte[] json = json(context.requestBody().map(MotoCloudWatch::bytes).orElse(new byte[0]));
    return Optional.of(RequestBody.fromBytes(json));
  }

  @Override
  public SdkHttpResponse modifyHttpResponse(
      Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
    if (!applies(attributes)) {
      return context.httpResponse();
    }
    return context.httpResponse().toBuilder()
        .putHeader("smithy-protocol", "rpc-v2-cbor")
        .putHeader("Content-Type", "application/cbor")
        .removeHeader("Content-Length")
        .build();
  }

  @Override
  public Optional<InputStream> modifyHttpResponseContent(
      Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
    if (!applies(attributes) || context.responseBody().isEmpty()) {
      return context.responseBody();
    }
    try (InputStream in = context.responseBody().get()) {
      byte[] body = in.readAllBytes();
      JsonNode tree = body.length == 0 ? JSON.createObjectNode() : JSON.readTree(body);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try (CBORGenerator g = (CBORGenerator) CBOR.getFactory().createGenerator(out)) {
        write(g, tree, false);
      }
      return Optional.of(new ByteArrayInputStream(out.toByteArray()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] bytes(RequestBody b) {
    try (InputStream in = b.contentStreamProvider().newStream()) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static byte[] json(byte[] cbor) {
    try {
      return cbor.length == 0 ? "{}".getBytes() : JSON.writeValueAsBytes(CBOR.readTree(cbor));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(CBORGenerator g, JsonNode n, boolean timestamp) throws IOException {
    if (n.isObject()) {
      g.writeStartObject();
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        g.writeFieldName(e.getKey());
        write(g, e.getValue(), TIMESTAMPS.contains(e.getKey()));
      }
      g.writeEndObject();
    } else if (n.isArray()) {
      g.writeStartArray();
      for (JsonNode item : n) {
        write(g, item, timestamp);
      }
      g.writeEndArray();
    } else if (timestamp && n.isNumber()) {
      g.writeTag(1); // epoch seconds
      g.writeNumber(n.doubleValue());
    } else {
      JSON.writeTree(g, n);
    }
  }
}
