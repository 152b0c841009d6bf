package io.pgfailover.controller.http;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

/**
 * The JSON both ends of this jar's HTTP APIs use: records as objects, {@code Optional} as the value
 * or null, times as ISO-8601 text. Unknown fields are ignored, so an agent newer than its
 * controller (or the other way round) still answers.
 */
public final class Json {
  public static final ObjectMapper MAPPER =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private Json() {}

  /** {@code {"error": message}}, escaped. */
  public static String error(String message) {
    return MAPPER.createObjectNode().put("error", message).toString();
  }
}
