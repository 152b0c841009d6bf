package io.pgfailover.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.pgfailover.probe.internal.Passwords;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordSourceTest {

  @TempDir Path dir;

  @Test
  void fileGivesItsFirstLineWithoutTheNewline() throws IOException {
    Path f = privateFile("s3cret\nignored\n");
    assertEquals("s3cret", PasswordSource.fromFile(f).password("h", 5432, "db", "u"));
  }

  @Test
  void fileReadableByGroupOrOthersIsRefusedWithTheFix() throws IOException {
    Path f = privateFile("s3cret\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r--r--"));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> PasswordSource.fromFile(f).password("h", 5432, "db", "u"));
    assertEquals(
        "password file " + f + " is accessible by group or others (rw-r--r--); run chmod 600 " + f,
        e.getMessage());
  }

  @Test
  void missingAndEmptyFilesSaySo() throws IOException {
    Path missing = dir.resolve("nope");
    assertEquals(
        "password file " + missing + " does not exist",
        assertThrows(
                IllegalStateException.class,
                () -> PasswordSource.fromFile(missing).password("h", 1, "d", "u"))
            .getMessage());
    Path empty = privateFile("");
    assertEquals(
        "password file " + empty + " is empty; put the password on its first line",
        assertThrows(
                IllegalStateException.class,
                () -> PasswordSource.fromFile(empty).password("h", 1, "d", "u"))
            .getMessage());
  }

  @Test
  void unsetEnvironmentVariableIsNamed() {
    String unset = "PGFAILOVER_TEST_SURELY_UNSET_VARIABLE";
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> PasswordSource.fromEnv(unset).password("h", 1, "d", "u"));
    assertEquals(
        "password environment variable " + unset + " is not set; export it or use a password file",
        e.getMessage());
  }

  @Test
  void environmentVariableIsRead() {
    // PATH is set in every test environment; its value stands in for a password.
    assertEquals(System.getenv("PATH"), PasswordSource.fromEnv("PATH").password("h", 1, "d", "u"));
  }

  @Test
  void pgpassFirstMatchingLineWinsWithWildcardsAndEscapes() throws IOException {
    Path f =
        privateFile(
            String.join(
                "\n",
                "# comment",
                "",
                "malformed:line",
                "db1.internal:5432:app:monitor:first",
                "db1.internal:5432:*:monitor:second",
                "*:*:*:monitor:wild",
                "we\\:ird:5433:d\\\\b:u:pa:ss\\:word\\\\",
                ""));
    PasswordSource pgpass = PasswordSource.pgpass(f);
    assertEquals("first", pgpass.password("db1.internal", 5432, "app", "monitor"));
    assertEquals("second", pgpass.password("db1.internal", 5432, "postgres", "monitor"));
    assertEquals("wild", pgpass.password("db2.internal", 6432, "app", "monitor"));
    assertEquals("pa:ss:word\\", pgpass.password("we:ird", 5433, "d\\b", "u"));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> pgpass.password("db1.internal", 5432, "app", "other"));
    assertEquals(
        "pgpass file "
            + f
            + " has no line matching db1.internal:5432:app:other; add one (fields may be *)",
        e.getMessage());
  }

  @Test
  void pgpassPortAndHostMustMatchExactly() {
    List<String> lines = List.of("db1:5432:*:u:p");
    assertEquals(Optional.empty(), Passwords.Pgpass.lookup(lines, "db1", 15432, "x", "u"));
    assertEquals(Optional.empty(), Passwords.Pgpass.lookup(lines, "db10", 5432, "x", "u"));
    assertEquals(Optional.of("p"), Passwords.Pgpass.lookup(lines, "db1", 5432, "x", "u"));
  }

  @Test
  void pgpassWithLoosePermissionsIsRefused() throws IOException {
    Path f = privateFile("*:*:*:*:p\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-rw----"));
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> PasswordSource.pgpass(f).password("h", 1, "d", "u"));
    assertEquals(
        "pgpass file " + f + " is accessible by group or others (rw-rw----); run chmod 600 " + f,
        e.getMessage());
  }

  @Test
  void toStringNeverShowsThePassword() {
    assertFalse(PasswordSource.literal("hunter2").toString().contains("hunter2"));
    NodeEndpoint node =
        new NodeEndpoint(
            "pg-a",
            "h",
            5432,
            "postgres",
            "u",
            PasswordSource.literal("hunter2"),
            java.util.Map.of("sslmode", "verify-full", "sslpassword", "keypass"));
    assertFalse(node.toString().contains("hunter2"), node.toString());
    assertFalse(node.toString().contains("keypass"), node.toString());
    assertEquals("env(PGPASSWORD_PG_A)", PasswordSource.fromEnv("PGPASSWORD_PG_A").toString());
  }

  private Path privateFile(String content) throws IOException {
    Path f = Files.createTempFile(dir, "pw", ".txt");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    Files.writeString(f, content);
    return f;
  }
}
