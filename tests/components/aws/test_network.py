from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError

from components.aws import Network, NetworkArgs
from engine.mocks import ProgramFailed, ProgramRun

SUBNET = "aws:ec2/subnet:Subnet"
NAT = "aws:ec2/natGateway:NatGateway"
ROUTE_TABLE = "aws:ec2/routeTable:RouteTable"
Run = Callable[..., ProgramRun]


def net(mock_run: Run, **args: object) -> ProgramRun:
    return mock_run(lambda: Network("net", NetworkArgs(**args)), stack="aws-dev")  # type: ignore[arg-type]


@pytest.mark.parametrize(("nat", "az_count", "nats"), [("single", 2, 1), ("per_az", 3, 3), ("none", 2, 0)])
def test_nat_choice_sets_gateway_count(mock_run: Run, nat: str, az_count: int, nats: int) -> None:
    run = net(mock_run, nat=nat, az_count=az_count)
    assert len(run.of_type(NAT)) == nats
    assert len(run.of_type("aws:ec2/eip:Eip")) == nats
    assert len(run.of_type(SUBNET)) == 2 * az_count
    assert len(run.of_type(ROUTE_TABLE)) == 1 + az_count
    assert len(run.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")) == 2 * az_count


def test_private_subnets_route_through_their_own_nat_per_az(mock_run: Run) -> None:
    run = net(mock_run, nat="per_az", az_count=2)
    nat_ids = {r.id for r in run.of_type(NAT)}
    private_routes = [r.raw_inputs["routes"] for r in run.of_type(ROUTE_TABLE) if "private-rt" in r.name]
    used = {routes[0]["natGatewayId"] for routes in private_routes}
    assert used == nat_ids and len(used) == 2


def test_without_nat_private_subnets_have_no_default_route(mock_run: Run) -> None:
    run = net(mock_run, nat="none")
    private = [r for r in run.of_type(ROUTE_TABLE) if "private-rt" in r.name]
    assert private and all(not r.raw_inputs.get("routes") for r in private)


def test_subnets_carry_discovery_tags_and_no_public_ips(mock_run: Run) -> None:
    run = net(mock_run, cluster_name="datamcp-dev", az_count=2)
    for subnet in run.of_type(SUBNET):
        tags = subnet.inputs["tags"]
        assert subnet.inputs["mapPublicIpOnLaunch"] is False
        assert tags["kubernetes.io/cluster/datamcp-dev"] == "shared"
        role = "kubernetes.io/role/elb" if "public" in subnet.name else "kubernetes.io/role/internal-elb"
        assert tags[role] == "1"


def test_zones_are_looked_up_unless_given(mock_run: Run) -> None:
    looked_up = net(mock_run, az_count=3)
    assert [t for t, _ in looked_up.invokes] == ["aws:index/getAvailabilityZones:getAvailabilityZones"]
    zones = sorted(s.inputs["availabilityZone"] for s in looked_up.of_type(SUBNET) if "public" in s.name)
    assert zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    given = net(mock_run, az_count=2, availability_zones=["eu-west-1a", "eu-west-1b"])
    assert given.invokes == []
    assert {s.inputs["availabilityZone"] for s in given.of_type(SUBNET)} == {"eu-west-1a", "eu-west-1b"}


def test_flow_logs_on_by_default_with_a_scoped_role(mock_run: Run) -> None:
    run = net(mock_run)
    flow_log = run.one("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["logDestinationType"] == "cloud-watch-logs"
    policy = run.one("aws:iam/rolePolicy:RolePolicy").raw_inputs["policy"]
    assert '"Resource": ["arn:aws:logs:' in policy and '"*"' not in policy
    assert not net(mock_run, flow_logs=False).of_type("aws:ec2/flowLog:FlowLog")


def test_every_resource_is_parented_and_tagged(mock_run: Run) -> None:
    run = net(mock_run)
    component = run.one("datamcp:aws:Network")
    for r in run.resources:
        if r is component:
            continue
        assert r.parent == component.urn, r.urn
        if "tags" in r.inputs:
            assert r.inputs["tags"]["managed-by"] == "datamcp"
            assert r.inputs["tags"]["stack"] == "aws-dev"
            assert r.inputs["tags"]["project"] == "datamcp"


def test_outputs(mock_run: Run) -> None:
    run = net(mock_run, cidr="10.20.0.0/16", az_count=2)
    outputs = run.one("datamcp:aws:Network").outputs
    vpc = run.one("aws:ec2/vpc:Vpc")
    assert outputs["vpc_id"] == vpc.id
    assert outputs["vpc_cidr"] == "10.20.0.0/16"
    assert outputs["public_subnet_cidrs"] == ["10.20.0.0/18", "10.20.64.0/18"]
    assert outputs["private_subnet_cidrs"] == ["10.20.128.0/18", "10.20.192.0/18"]
    assert len(outputs["private_subnet_ids"]) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"cidr": "8.8.0.0/16"}, "RFC 1918"),
        ({"cidr": "10.0.0.0/24", "az_count": 6, "subnet_prefix": 27}, "holds 8 subnets"),
        ({"az_count": 7}, "less than or equal to 6"),
        ({"availability_zones": ["a"], "az_count": 2}, "lists 1 zones"),
        ({"nat": "two"}, "single"),
        ({"colour": "blue"}, "Extra inputs"),
    ],
)
def test_invalid_args_fail_before_anything_is_registered(mock_run: Run, args: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ProgramFailed) as info:
        net(mock_run, **args)
    assert isinstance(info.value.error, ValidationError)
    assert message in str(info.value.error)
    assert info.value.run.resources == []


def test_a_region_with_too_few_zones_is_an_error(mock_run: Run) -> None:
    with pytest.raises(ProgramFailed, match="available zones"):
        mock_run(
            lambda: Network("net", NetworkArgs(az_count=3)),
            invoke_overrides={"aws:index/getAvailabilityZones:getAvailabilityZones": lambda _: {"names": ["z-a"]}},
        )
