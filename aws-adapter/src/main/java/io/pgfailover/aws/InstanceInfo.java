package io.pgfailover.aws;

/**
 * A PostgreSQL (or controller) instance as discovery sees it.
 *
 * @param state EC2's state name: pending, running, stopping, stopped, shutting-down, terminated
 * @param sourceDestCheck the instance attribute; must be false for the virtual IP to reach the
 *     instance
 */
public record InstanceInfo(
    String instanceId,
    String primaryEniId,
    String privateIp,
    String availabilityZone,
    String subnetId,
    String vpcId,
    String state,
    boolean sourceDestCheck) {

  public RouteTarget routeTarget() {
    return RouteTarget.networkInterface(primaryEniId);
  }
}
