package io.pgfailover.controller.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which history events are notable, and their NODE, ROLE and subject: one row per case. */
class NotableTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Arguments> rows() {
    return Stream.of(
        row(
            "{'event':'failover_started','kind':'failover','from':'pg-a','to':'pg-b'}",
            "failover_started pg-b primary | pgfailover c: failover started: pg-a -> pg-b"),
        row("{'event':'failover_started','kind':'switchover','from':'pg-a','to':'pg-b'}", ""),
        row(
            "{'event':'failover_timeline','kind':'failover','from':'pg-a','to':'pg-b',"
                + "'completed':true,'phases_ms':{'failure_first_seen':0,'verified':3120}}",
            "failover_finished pg-b primary | pgfailover c: failover finished: pg-a -> pg-b in"
                + " 3120 ms"),
        row(
            "{'event':'failover_timeline','kind':'manual_failover','from':'pg-a','to':'pg-b',"
                + "'completed':false,'phases_ms':{}}",
            "failover_failed pg-b primary | pgfailover c: manual failover failed: pg-a -> pg-b"),
        row(
            "{'event':'failover_timeline','kind':'switchover','from':'pg-a','to':'pg-b',"
                + "'completed':true,'phases_ms':{'verified':900}}",
            "switchover pg-b primary | pgfailover c: switchover finished: pg-a -> pg-b in 900 ms"),
        row(
            "{'event':'rejoin_failed','node':'pg-a','error':'x'}",
            "rejoin_failed pg-a standby | pgfailover c: rejoin failed: pg-a"),
        row(
            "{'event':'alarm','kind':'TWO_PRIMARIES','message':'two','state':'raised'}",
            "alarm_raised nat-a controller | pgfailover c: alarm TWO_PRIMARIES: two"),
        row("{'event':'alarm','kind':'TWO_PRIMARIES','message':'two','state':'reminder'}", ""),
        row(
            "{'event':'alarm_cleared','kind':'TWO_PRIMARIES'}",
            "alarm_cleared nat-a controller | pgfailover c: alarm cleared: TWO_PRIMARIES"),
        row(
            "{'event':'lease_acquired','token':7,'controller':'nat-b'}",
            "lease_acquired nat-b leader | pgfailover c: nat-b leads (lease token 7)"),
        row(
            "{'event':'lease_lapsed','token':7,'why':'store unreachable','controller':'nat-b'}",
            "lease_lost nat-b follower | pgfailover c: nat-b lost the lease: store unreachable"),
        row(
            "{'event':'controller_stopping'}",
            "controller_stopping nat-a controller | pgfailover c: controller nat-a stopping"),
        row("{'event':'decision','reason':'HEALTHY'}", ""),
        row("{'event':'notification_dropped','channel':'sns'}", ""));
  }

  static Arguments row(String event, String expected) {
    return Arguments.of(event, expected);
  }

  @ParameterizedTest
  @MethodSource("rows")
  void notableEventsAndWhatTheySay(String event, String expected) throws Exception {
    ObjectNode e = (ObjectNode) JSON.readTree(event.replace('\'', '"'));
    e.put("ts", "2026-12-02T03:00:00Z");
    e.put("cluster", "c");
    Optional<Notification> n = Notable.of(e, "nat-a");
    assertEquals(
        expected,
        n.map(x -> x.event().text() + " " + x.node() + " " + x.role() + " | " + x.subject())
            .orElse(""));
    n.ifPresent(
        x -> {
          try {
            var json = JSON.readTree(x.json());
            assertEquals(x.event().text(), json.path("event").asText());
            assertEquals(e.path("event").asText(), json.path("history_event").asText());
            assertEquals("c", json.path("cluster").asText());
          } catch (Exception ex) {
            throw new AssertionError(ex);
          }
        });
  }
}
