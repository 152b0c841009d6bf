package io.pgfailover.controller.notify;

/**
 * One message about one notable event, as every channel sends it.
 *
 * @param node the node the event is about (the new primary, the rejoining standby), else this
 *     controller's name
 * @param role the role {@code node} has after the event: primary, standby, leader, follower or
 *     controller
 * @param subject a short human line (SNS subject, log)
 * @param json the history's event as one JSON object, {@code event} the notable name and {@code
 *     history_event} the history's own
 */
public record Notification(
    NotableEvent event, String node, String role, String cluster, String subject, String json) {}
