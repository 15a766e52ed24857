"""A VPC with public and private subnets over N availability zones, NAT, routing and flow logs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Literal

import pulumi
import pulumi_aws as aws
from pydantic import Field, field_validator, model_validator

from components.aws.cidr import carve_subnets, validate_vpc_cidr
from components.aws.iam import IAM_NAME_INVALID
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


Named = Callable[..., dict[str, str]]


def _tagger(tags: dict[str, str], base: str) -> Named:
    """`named("vpc")`: the common tags plus the `Name` tag that the AWS console shows, here `<base>-vpc`."""

    def named(suffix: str, **extra: str) -> dict[str, str]:
        return {**tags, "Name": f"{base}-{suffix}", **extra}

    return named


def _flow_logs_trust_policy() -> str:
    """Lets only the VPC flow logs service assume the flow logs role."""
    return json.dumps(
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
    )


def _flow_logs_policy(log_group_arn: str) -> str:
    """Writes to the one flow logs group and its streams, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": [log_group_arn, f"{log_group_arn}:*"],
                }
            ],
        }
    )


class Network(pulumi.ComponentResource):
    """VPC, subnets, internet gateway, NAT gateway(s), route tables and flow logs."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: pulumi.Output[list[str]]
    private_subnet_ids: pulumi.Output[list[str]]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("datamcp:aws:Network", name, None, opts)
        tags = args.resource_tags()
        base = physical_name(pulumi.get_project(), pulumi.get_stack(), name, max_len=200)
        named = _tagger(tags, base)
        zones = self._zones(args)
        igw = self._vpc(name, args, named)
        self._subnets(name, args, named, zones)
        self.nat_gateways = self._nat(name, args, named, igw)
        self._routes(name, args, named, igw)
        if args.flow_logs:
            self._flow_logs(name, args, tags, base)
        self._outputs(args, zones)

    def _zones(self, args: NetworkArgs) -> pulumi.Output[list[str]]:
        """The zones given, else the first `az_count` available ones in name order (stable across runs)."""
        if args.availability_zones is not None:
            return pulumi.Output.from_input(list(args.availability_zones))
        found = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))

        def pick(names: list[str]) -> list[str]:
            if len(names) < args.az_count:
                raise ValueError(f"the region has {len(names)} available zones, az_count is {args.az_count}")
            return sorted(names)[: args.az_count]

        return found.names.apply(pick)

    def _vpc(self, name: str, args: NetworkArgs, named: Named) -> aws.ec2.InternetGateway:
        """The VPC with DNS on, its default security group emptied, and the internet gateway (returned)."""
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
        return aws.ec2.InternetGateway(f"{name}-igw", vpc_id=self.vpc.id, tags=named("igw"), opts=child(self))

    def _subnets(self, name: str, args: NetworkArgs, named: Named, zones: pulumi.Output[list[str]]) -> None:
        """One public and one private subnet per zone; none gives instances a public IP on its own."""
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
                        availability_zone=zones[i],
                        map_public_ip_on_launch=False,
                        tags=named(f"{kind}-{i}", **{f"kubernetes.io/role/{lb_role}": "1"}, **cluster_tag),
                        opts=child(self),
                    )
                )
        self.public_subnets, self.private_subnets = subnets["public"], subnets["private"]

    def _nat(
        self, name: str, args: NetworkArgs, named: Named, igw: aws.ec2.InternetGateway
    ) -> list[aws.ec2.NatGateway]:
        """None, one (cheaper) or one per zone (a zone outage cuts only its own egress), each in a public subnet."""
        nat_count = {"none": 0, "single": 1, "per_az": args.az_count}[args.nat]
        gateways = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", domain="vpc", tags=named(f"nat-eip-{i}"), opts=child(self))
            gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.allocation_id,
                    subnet_id=self.public_subnets[i].id,
                    tags=named(f"nat-{i}"),
                    opts=child(self, depends_on=[igw]),
                )
            )
        return gateways

    def _routes(self, name: str, args: NetworkArgs, named: Named, igw: aws.ec2.InternetGateway) -> None:
        """Public subnets route out through the internet gateway; each private subnet through its NAT, if any."""
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

    def _flow_logs(self, name: str, args: NetworkArgs, tags: dict[str, str], base: str) -> None:
        """ALL traffic to a log group with our retention, written by a role that may write to that group only."""
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/datamcp/{base}/vpc-flow-logs",
            retention_in_days=args.flow_log_retention_days,
            tags=tags,
            opts=child(self),
        )
        role = aws.iam.Role(
            f"{name}-flow-logs-role",
            name=physical_name(base, "flow-logs", max_len=64, invalid=IAM_NAME_INVALID),
            assume_role_policy=_flow_logs_trust_policy(),
            tags=tags,
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=role.id,
            policy=log_group.arn.apply(_flow_logs_policy),
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

    def _outputs(self, args: NetworkArgs, zones: pulumi.Output[list[str]]) -> None:
        """Ids and CIDRs in zone order, so that index i of each list is the same zone."""
        public_cidrs, private_cidrs = args.subnet_cidrs()
        self.vpc_id = self.vpc.id
        self.vpc_cidr = pulumi.Output.from_input(args.cidr)
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in self.public_subnets])
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in self.private_subnets])
        self.public_subnet_cidrs = pulumi.Output.from_input(public_cidrs)
        self.private_subnet_cidrs = pulumi.Output.from_input(private_cidrs)
        self.availability_zones = zones
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
