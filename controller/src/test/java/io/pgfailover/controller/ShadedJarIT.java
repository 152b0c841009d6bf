package io.pgfailover.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;

/**
 * The runnable jar (built in {@code package}, before failsafe runs) carries one HTTP client: the
 * URL-connection client every SDK client here is built with. The SDK's service modules would bring
 * Apache HttpClient 5 and Netty as their defaults; the parent pom excludes them.
 */
class ShadedJarIT {
  private static final Path JAR = Path.of(System.getProperty("user.dir"), "target/failoverctl.jar");

  @Test
  void theJarHasTheUrlConnectionClientAndNoNettyOrApacheHttpClient() throws IOException {
    assertTrue(Files.exists(JAR), JAR + " is built in the package phase, before this test");
    try (ZipFile zip = new ZipFile(JAR.toFile())) {
      List<String> unwanted =
          zip.stream()
              .map(ZipEntry::getName)
              .filter(n -> n.startsWith("io/netty/") || n.startsWith("org/apache/hc/"))
              .limit(5)
              .toList();
      assertEquals(List.of(), unwanted, "Netty or Apache HttpClient classes in " + JAR);
      assertNotNull(
          zip.getEntry("software/amazon/awssdk/http/urlconnection/UrlConnectionHttpClient.class"));
      // The SDK picks its default client through this service file: only one may be listed.
      ZipEntry services =
          zip.getEntry("META-INF/services/software.amazon.awssdk.http.SdkHttpService");
      assertNotNull(services);
      try (InputStream in = zip.getInputStream(services)) {
        List<String> listed =
            new String(in.readAllBytes(), StandardCharsets.UTF_8)
                .lines()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .toList();
        assertEquals(
            List.of("software.amazon.awssdk.http.urlconnection.UrlConnectionSdkHttpService"),
            listed);
      }
    }
  }
}
