package io.pgfailover.aws;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where the virtual-IP route points: an ENI (preferred: it names exactly the interface that
 * receives the virtual IP's traffic) or an instance (AWS then picks the instance's primary ENI
 * itself).
 */
public record RouteTarget(Kind kind, String id) {
  public enum Kind {
    NETWORK_INTERFACE,
    INSTANCE
  }

  private static final Pattern ENI = Pattern.compile("eni-[0-9a-f]{8,17}");
  private static final Pattern INSTANCE_ID = Pattern.compile("i-[0-9a-f]{8,17}");

  public RouteTarget {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(id, "id");
    Pattern form = kind == Kind.NETWORK_INTERFACE ? ENI : INSTANCE_ID;
    if (!form.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "route target "
              + kind
              + " id must look like "
              + (kind == Kind.NETWORK_INTERFACE ? "eni-0123abcd" : "i-0123abcd")
              + " (8 or 17 hex digits), got '"
              + id
              + "'");
    }
  }

  /** Reads {@code eni-…} or {@code i-…}; anything else is an error naming both accepted forms. */
  public static RouteTarget parse(String text) {
    String id = text == null ? "" : text.trim();
    if (id.startsWith("eni-")) {
      return new RouteTarget(Kind.NETWORK_INTERFACE, id);
    }
    if (id.startsWith("i-")) {
      return new RouteTarget(Kind.INSTANCE, id);
    }
    throw new IllegalArgumentException(
        "route target must be an ENI id (eni-…, preferred) or an instance id (i-…), got '"
            + text
            + "'");
  }

  public static RouteTarget networkInterface(String eniId) {
    return new RouteTarget(Kind.NETWORK_INTERFACE, eniId);
  }

  public static RouteTarget instance(String instanceId) {
    return new RouteTarget(Kind.INSTANCE, instanceId);
  }

  /**
   * The AWS CLI command that creates the virtual-IP route to this target: the fix for a table
   * without it.
   */
  public String createRouteCommand(String routeTableId, String vipCidr) {
    return "aws ec2 create-route --route-table-id "
        + routeTableId
        + " --destination-cidr-block "
        + vipCidr
        + (kind == Kind.NETWORK_INTERFACE ? " --network-interface-id " : " --instance-id ")
        + id;
  }

  @Override
  public String toString() {
    return id;
  }
}
