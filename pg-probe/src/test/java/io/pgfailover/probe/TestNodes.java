package io.pgfailover.probe;

import io.pgfailover.testsupport.pg.PgNode;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** Endpoints and SQL helpers for the harness's nodes. */
final class TestNodes {

  private TestNodes() {}

  static NodeEndpoint endpoint(PgNode node) {
    return NodeEndpoint.of(
        "pg-" + node.name(),
        node.host(),
        node.port(),
        "postgres",
        node.superuser(),
        PasswordSource.literal(node.superuserPassword()));
  }

  static String query(PgNode node, String sql) throws SQLException {
    try (Connection c = node.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  static void execute(PgNode node, String... sql) throws SQLException {
    try (Connection c = node.connect();
        Statement s = c.createStatement()) {
      for (String each : sql) {
        s.execute(each);
      }
    }
  }
}
