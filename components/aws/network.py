"""A VPC with public and private subnets over N availability zones, NAT, routing and flow logs."""

from __future__ import annotations

import json
from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components.aws.cidr import carve_subnets, validate_vpc_cidr
from components.base import ComponentArgs, child
from components.naming import physical_name


class NetworkArgs(ComponentArgs):
    cidr: str = Field("10.0.0.0/16", description="VPC block: private RFC 1918, /16 to /24.")
    az_count: int = Field(2, ge=1, le=6, description="How many availability zones to spread subnets over.")
    availability_zones: list[str] | None = Field(None, description="Zones to use; looked up when not given.")
    subnet_prefix: int | None = Field(None, ge=16, le=28, description="Subnet size; derived from cidr if unset.")
    nat: Literal["single", "per_az", "none"] = Field("single", description="NAT gateways: one, one per AZ, none.")
    flow_logs: bool = Field(True, description="VPC flow logs to CloudWatch (on by default).")
    flow_log_retention_days: int = Field(90, ge=1)
    cluster_name: str | None = Field(None, description="EKS cluster to tag subnets for (load balancer discovery).")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        validate_vpc_cidr(value)
        return value

    @model_validator(mode="after")
    def _layout_fits(self) -> NetworkArgs:
        if self.availability_zones is not None and len(self.availability_zones) != self.az_count:
            raise ValueError(
                f"availability_zones lists {len(self.availability_zones)} zones, az_count is {self.az_count}"
            )
        carve_subnets(self.cidr, self.az_count, self.subnet_prefix)
        return self

    def subnet_cidrs(self) -> tuple[list[str], list[str]]:
        return carve_subnets(self.cidr, self.az_count, self.subnet_prefix)


class Network(pulumi.ComponentResource):
    """VPC, subnets, internet gateway, NAT gateway(s), route tables and flow logs."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:aws:Network", name, None, opts)
        tags = args.resource_tags()
        base = physical_name(pulumi.get_project(), pulumi.get_stack(), name, max_len=200)

        def named(suffix: str, **extra: str) -> dict[str, str]:
            return {**tags, "Name": f"{base}-{suffix}", **extra}

        zones: pulumi.Input[list[str]]
        if args.availability_zones is not None:
            zones = list(args.availability_zones)
        else:
            found = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))

            def pick(names: list[str]) -> list[str]:
                if len(names) < args.az_count:
                    raise ValueError(f"the region has {len(names)} available zones, az_count is {args.az_count}")
                return sorted(names)[: args.az_count]

            zones = found.names.apply(pick)
        zone_list = pulumi.Output.from_input(zones)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=named("vpc"),
            opts=child(self),
        )
        # A default security group that allows nothing: resources get their own, explicit groups.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg", vpc_id=self.vpc.id, tags=named("default-sg"), opts=child(self)
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=named("igw"), opts=child(self))

        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"} if args.cluster_name else {}
        public_cidrs, private_cidrs = args.subnet_cidrs()
        subnets: dict[str, list[aws.ec2.Subnet]] = {"public": [], "private": []}
        # Load balancer discovery: internet-facing ones in public subnets, internal ones in private subnets.
        for kind, cidrs, lb_role in (("public", public_cidrs, "elb"), ("private", private_cidrs, "internal-elb")):
            for i, cidr in enumerate(cidrs):
                subnets[kind].append(
                    aws.ec2.Subnet(
                        f"{name}-{kind}-{i}",
                        vpc_id=self.vpc.id,
                        cidr_block=cidr,
                        availability_zone=zone_list[i],
                        map_public_ip_on_launch=False,
                        tags=named(f"{kind}-{i}", **{f"kubernetes.io/role/{lb_role}": "1"}, **cluster_tag),
                        opts=child(self),
                    )
                )
        self.public_subnets, self.private_subnets = subnets["public"], subnets["private"]

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=self.vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": igw.id}],
            tags=named("public-rt"),
            opts=child(self),
        )
        for i, subnet in enumerate(self.public_subnets):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child(self)
            )

        nat_count = {"none": 0, "single": 1, "per_az": args.az_count}[args.nat]
        self.nat_gateways: list[aws.ec2.NatGateway] = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", domain="vpc", tags=named(f"nat-eip-{i}"), opts=child(self))
            self.nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.public_subnets[i].id,
                    tags=named(f"nat-{i}"),
                    opts=child(self, depends_on=[igw]),
                )
            )
        for i, subnet in enumerate(self.private_subnets):
            routes = []
            if self.nat_gateways:
                nat = self.nat_gateways[i if args.nat == "per_az" else 0]
                routes.append({"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id})
            rt = aws.ec2.RouteTable(
                f"{name}-private-rt-{i}",
                vpc_id=self.vpc.id,
                routes=routes,
                tags=named(f"private-rt-{i}"),
                opts=child(self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{i}", subnet_id=subnet.id, route_table_id=rt.id, opts=child(self)
            )

        if args.flow_logs:
            log_group = aws.cloudwatch.LogGroup(
                f"{name}-flow-logs",
                name=f"/datamcp/{base}/vpc-flow-logs",
                retention_in_days=args.flow_log_retention_days,
                tags=tags,
                opts=child(self),
            )
            role = aws.iam.Role(
                f"{name}-flow-logs-role",
                name=physical_name(base, "flow-logs", max_len=64, invalid=r"[^\w+=,.@-]"),
                assume_role_policy=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Action": "sts:AssumeRole",
                                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                            }
                        ],
                    }
                ),
                tags=tags,
                opts=child(self),
            )
            aws.iam.RolePolicy(
                f"{name}-flow-logs-policy",
                role=role.id,
                policy=log_group.arn.apply(
                    lambda arn: json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                                    "Resource": [arn, f"{arn}:*"],
                                }
                            ],
                        }
                    )
                ),
                opts=child(self),
            )
            aws.ec2.FlowLog(
                f"{name}-flow-log",
                vpc_id=self.vpc.id,
                traffic_type="ALL",
                log_destination_type="cloud-watch-logs",
                log_destination=log_group.arn,
                iam_role_arn=role.arn,
                tags=tags,
                opts=child(self),
            )

        self.vpc_id = self.vpc.id
        self.vpc_cidr = pulumi.Output.from_input(args.cidr)
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.public_subnets])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.public_subnet_cidrs = pulumi.Output.from_input(public_cidrs)
        self.private_subnet_cidrs = pulumi.Output.from_input(private_cidrs)
        self.availability_zones = zone_list
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "public_subnet_ids": self.public_subnet_ids,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_cidrs": self.public_subnet_cidrs,
                "private_subnet_cidrs": self.private_subnet_cidrs,
                "availability_zones": self.availability_zones,
            }
        )
