package io.pgfailover.aws;

/** A route table as discovery sees it: its VPC and where its virtual-IP route points. */
public record RouteTableInfo(String routeTableId, String vpcId, RouteState vipRoute) {}
