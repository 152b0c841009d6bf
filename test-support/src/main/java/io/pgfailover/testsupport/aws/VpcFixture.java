package io.pgfailover.testsupport.aws;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import software.amazon.awssdk.services.ec2.Ec2Client;
import software.amazon.awssdk.services.ec2.model.AttributeBooleanValue;
import software.amazon.awssdk.services.ec2.model.Instance;
import software.amazon.awssdk.services.ec2.model.InstanceNetworkInterface;
import software.amazon.awssdk.services.ec2.model.InstanceType;
import software.amazon.awssdk.services.ec2.model.ResourceType;
import software.amazon.awssdk.services.ec2.model.Tag;
import software.amazon.awssdk.services.ec2.model.TagSpecification;

/**
 * What a real deployment has, created in the emulator: a VPC, two subnets in two AZs, a PostgreSQL
 * primary and standby instance (each with its primary ENI and private IP, source/dest check
 * disabled, tagged for the cluster), N route tables (the first two associated with the subnets) and
 * the virtual-IP route, a /32 outside the VPC CIDR, pointing at the primary's ENI in every table.
 *
 * <pre>{@code
 * VpcFixture vpc = VpcFixture.builder(aws.ec2Client()).routeTables(10).create();
 * }</pre>
 */
public record VpcFixture(
    String vpcId,
    String vpcCidr,
    List<String> subnetIds,
    Node primary,
    Node standby,
    List<String> routeTableIds,
    String vipCidr,
    String clusterName) {

  public static final String VPC_CIDR = "10.0.0.0/16";

  /**
   * Outside 10.0.0.0/16, as the overlay IP must be (AWS routes it only through the route tables),
   * and outside 172.31.0.0/16, the default VPC that AWS and moto create in every region.
   */
  public static final String DEFAULT_VIP_CIDR = "192.168.240.10/32";

  public static final String CLUSTER_TAG = "pgfailover:cluster";
  public static final String ROLE_TAG = "pgfailover:role";

  /** A PostgreSQL node's instance as the adapter sees it. */
  public record Node(
      String name,
      String instanceId,
      String eniId,
      String privateIp,
      String subnetId,
      String availabilityZone) {}

  /**
   * The fixture's addresses. The netns lab gives the instances its hosts' addresses, so that an
   * ENI's private IP is where the lab's router sends the virtual IP.
   *
   * @param ipA the primary's private IP in subnet A, or null to let the emulator choose (likewise
   *     ipB)
   */
  public record Addressing(String vpcCidr, String subnetA, String subnetB, String ipA, String ipB) {
    public static final Addressing DEFAULT =
        new Addressing(VPC_CIDR, "10.0.1.0/24", "10.0.2.0/24", null, null);
  }

  public VpcFixture {
    subnetIds = List.copyOf(subnetIds);
    routeTableIds = List.copyOf(routeTableIds);
  }

  /** Where each of the fixture's route tables sends the virtual IP now ("none": no such route). */
  public List<String> routeTargets(Ec2Client ec2) {
    return ec2.describeRouteTables(r -> r.routeTableIds(routeTableIds)).routeTables().stream()
        .map(
            t ->
                t.routes().stream()
                    .filter(r -> vipCidr.equals(r.destinationCidrBlock()))
                    .findFirst()
                    .map(software.amazon.awssdk.services.ec2.model.Route::networkInterfaceId)
                    .orElse("none"))
        .toList();
  }

  public static Builder builder(Ec2Client ec2) {
    return new Builder(ec2);
  }

  public static final class Builder {
    private final Ec2Client ec2;
    private int routeTables = 2;
    private String vipCidr = DEFAULT_VIP_CIDR;
    private boolean vipRoute = true;
    private String clusterName = "pg-test";
    private Addressing addressing = Addressing.DEFAULT;
    // One of the AMIs moto ships in its catalogue; LocalStack accepts any id.
    private String imageId = "ami-12c6146b";

    private Builder(Ec2Client ec2) {
      this.ec2 = Objects.requireNonNull(ec2, "ec2");
    }

    /** How many route tables carry the virtual IP (default 2, one per subnet). */
    public Builder routeTables(int count) {
      if (count < 1) {
        throw new IllegalArgumentException("routeTables must be >= 1, got " + count);
      }
      this.routeTables = count;
      return this;
    }

    public Builder vipCidr(String vipCidr) {
      this.vipCidr = Objects.requireNonNull(vipCidr, "vipCidr");
      return this;
    }

    /**
     * Whether to create the virtual-IP route (default true); false leaves the tables without it.
     */
    public Builder vipRoute(boolean create) {
      this.vipRoute = create;
      return this;
    }

    public Builder clusterName(String clusterName) {
      this.clusterName = Objects.requireNonNull(clusterName, "clusterName");
      return this;
    }

    /**
     * The VPC and subnet CIDRs and, optionally, the instances' private IPs (default: 10.0.0.0/16,
     * moto picks).
     */
    public Builder addressing(Addressing addressing) {
      this.addressing = Objects.requireNonNull(addressing, "addressing");
      return this;
    }

    public Builder imageId(String imageId) {
      this.imageId = Objects.requireNonNull(imageId, "imageId");
      return this;
    }

    public VpcFixture create() {
      String region = ec2.serviceClientConfiguration().region().id();
      String vpcId = ec2.createVpc(r -> r.cidrBlock(addressing.vpcCidr())).vpc().vpcId();
      String azA = region + "a";
      String azB = region + "b";
      String subnetA = subnet(vpcId, addressing.subnetA(), azA);
      String subnetB = subnet(vpcId, addressing.subnetB(), azB);

      Node primary = instance("pg-a", "primary", subnetA, azA, addressing.ipA());
      Node standby = instance("pg-b", "standby", subnetB, azB, addressing.ipB());

      List<String> tables = new ArrayList<>();
      List<String> subnets = List.of(subnetA, subnetB);
      for (int i = 0; i < routeTables; i++) {
        TagSpecification tableTags = tags(ResourceType.ROUTE_TABLE, "rt-" + i, null);
        String table =
            ec2.createRouteTable(r -> r.vpcId(vpcId).tagSpecifications(tableTags))
                .routeTable()
                .routeTableId();
        if (i < subnets.size()) {
          String subnet = subnets.get(i);
          ec2.associateRouteTable(r -> r.routeTableId(table).subnetId(subnet));
        }
        if (vipRoute) {
          ec2.createRoute(
              r ->
                  r.routeTableId(table)
                      .destinationCidrBlock(vipCidr)
                      .networkInterfaceId(primary.eniId()));
        }
        tables.add(table);
      }
      return new VpcFixture(
          vpcId, addressing.vpcCidr(), subnets, primary, standby, tables, vipCidr, clusterName);
    }

    private String subnet(String vpcId, String cidr, String az) {
      return ec2.createSubnet(r -> r.vpcId(vpcId).cidrBlock(cidr).availabilityZone(az))
          .subnet()
          .subnetId();
    }

    private Node instance(String name, String role, String subnetId, String az, String privateIp) {
      Instance instance =
          ec2.runInstances(
                  r ->
                      r.imageId(imageId)
                          .instanceType(InstanceType.T3_MICRO)
                          .minCount(1)
                          .maxCount(1)
                          .subnetId(subnetId)
                          .privateIpAddress(privateIp)
                          .tagSpecifications(tags(ResourceType.INSTANCE, name, role)))
              .instances()
              .get(0);
      // The overlay IP only reaches an instance that accepts traffic not addressed to it.
      ec2.modifyInstanceAttribute(
          r ->
              r.instanceId(instance.instanceId())
                  .sourceDestCheck(AttributeBooleanValue.builder().value(false).build()));
      InstanceNetworkInterface eni =
          instance.networkInterfaces().stream()
              .min(Comparator.comparing(n -> n.attachment().deviceIndex()))
              .orElseThrow(
                  () ->
                      new IllegalStateException(
                          "instance " + instance.instanceId() + " has no ENI"));
      return new Node(
          name,
          instance.instanceId(),
          eni.networkInterfaceId(),
          instance.privateIpAddress(),
          subnetId,
          az);
    }

    private TagSpecification tags(ResourceType type, String name, String role) {
      List<Tag> tags = new ArrayList<>();
      tags.add(Tag.builder().key("Name").value(name).build());
      tags.add(Tag.builder().key(CLUSTER_TAG).value(clusterName).build());
      if (role != null) {
        tags.add(Tag.builder().key(ROLE_TAG).value(role).build());
      }
      return TagSpecification.builder().resourceType(type).tags(tags).build();
    }
  }
}
