package io.pgfailover.controller.admin;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminServerTest {
  @TempDir Path dir;

  @Test
  void aTokenFileOthersCanReadIsRefusedWithTheFix() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> AdminServer.readToken(token));
    assertTrue(e.getMessage().contains("fix: chmod 600 " + token), e.getMessage());
  }

  @Test
  void aShortTokenIsRefused() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "short\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> AdminServer.readToken(token));
    assertTrue(e.getMessage().contains("shorter than 16 characters"), e.getMessage());
  }

  @Test
  void anOwnerOnlyTokenIsReadWithoutItsNewline() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "0123456789abcdef0123\n");
    Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
    assertArrayEquals("0123456789abcdef0123".getBytes(), AdminServer.readToken(token));
  }
}
