from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from components.aws import EksCluster, EksClusterArgs, NodeGroupSpec
from engine.mocks import ProgramRun

Run = Callable[..., ProgramRun]
CLUSTER = "aws:eks/cluster:Cluster"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def eks(mock_run: Run, **args: object) -> ProgramRun:
    def program() -> None:
        EksCluster("eks", EksClusterArgs(private_subnet_ids=["subnet-a", "subnet-b"], **args))  # type: ignore[arg-type]

    return mock_run(program, stack="aws-dev")


def test_private_endpoint_by_default_with_logging_and_envelope_encryption(mock_run: Run) -> None:
    run = eks(mock_run)
    cluster = run.one(CLUSTER).raw_inputs
    assert cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert cluster["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in cluster["vpcConfig"]
    assert cluster["vpcConfig"]["subnetIds"] == ["subnet-a", "subnet-b"]
    assert set(cluster["enabledClusterLogTypes"]) == {"api", "audit", "authenticator", "controllerManager", "scheduler"}
    key = run.one("aws:kms/key:Key")
    assert key.inputs["enableKeyRotation"] is True
    assert cluster["encryptionConfig"] == {"provider": {"keyArn": key.outputs["arn"]}, "resources": ["secrets"]}
    assert run.one("aws:cloudwatch/logGroup:LogGroup").inputs["name"] == f"/aws/eks/{cluster['name']}/cluster"


def test_public_endpoint_needs_explicit_cidrs(mock_run: Run) -> None:
    run = eks(mock_run, public_endpoint=True, public_access_cidrs=["203.0.113.0/24"])
    vpc = run.one(CLUSTER).raw_inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    with pytest.raises(ValidationError, match="needs public_access_cidrs"):
        EksClusterArgs(private_subnet_ids=[], public_endpoint=True)


def test_roles_get_only_the_managed_policies_they_need(mock_run: Run) -> None:
    run = eks(mock_run)
    roles = {r.urn: r for r in run.of_type("aws:iam/role:Role")}
    assert len(roles) == 2
    by_role: dict[str, set[str]] = {}
    for a in run.of_type(ATTACH):
        by_role.setdefault(a.raw_inputs["role"], set()).add(a.raw_inputs["policyArn"].rsplit("/", 1)[-1])
    cluster_role = next(r for r in roles.values() if "cluster-role" in r.name)
    node_role = next(r for r in roles.values() if "node-role" in r.name)
    assert by_role[cluster_role.outputs["name"]] == {"AmazonEKSClusterPolicy"}
    assert by_role[node_role.outputs["name"]] == {
        "AmazonEKSWorkerNodePolicy",
        "AmazonEKS_CNI_Policy",
        "AmazonEC2ContainerRegistryReadOnly",
    }
    trust = json.loads(cluster_role.raw_inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "eks.amazonaws.com"}
    assert all(len(r.raw_inputs["name"]) <= 64 for r in roles.values())


def test_node_groups_take_sizes_and_types_from_args(mock_run: Run) -> None:
    groups = [
        NodeGroupSpec(name="system", instance_types=["m6i.large"], min_size=2, desired_size=2, max_size=4),
        NodeGroupSpec(
            name="spot",
            instance_types=["m6i.xlarge", "m5.xlarge"],
            capacity_type="SPOT",
            min_size=0,
            desired_size=0,
            max_size=10,
        ),
    ]
    run = eks(mock_run, node_groups=groups)
    ngs = {r.raw_inputs["nodeGroupName"]: r.raw_inputs for r in run.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert ngs["system"]["scalingConfig"] == {"minSize": 2, "desiredSize": 2, "maxSize": 4}
    assert ngs["system"]["instanceTypes"] == ["m6i.large"]
    assert ngs["spot"]["capacityType"] == "SPOT"
    assert ngs["spot"]["subnetIds"] == ["subnet-a", "subnet-b"]


def test_irsa_provider_and_secret_kubeconfig(mock_run: Run) -> None:
    run = eks(mock_run)
    cluster = run.one(CLUSTER)
    oidc = run.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    issuer = cluster.outputs["identities"][0]["oidcs"][0]["issuer"]
    assert oidc.raw_inputs["url"] == issuer
    assert oidc.raw_inputs["clientIdLists"] == ["sts.amazonaws.com"]
    outputs = run.one("datamcp:aws:EksCluster").outputs
    assert outputs["kubeconfig"] == "[secret]"
    assert outputs["endpoint"] == cluster.outputs["endpoint"]
    assert outputs["oidc_issuer"] == issuer
    assert outputs["name"] == cluster.outputs["name"]
    assert outputs["ca_data"] == cluster.outputs["certificateAuthority"]["data"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "ng", "min_size": 3, "desired_size": 3, "max_size": 2}, "min_size 3 > max_size 2"),
        ({"name": "ng", "min_size": 1, "desired_size": 5, "max_size": 3}, "must be within"),
        ({"name": "ng", "instance_types": []}, "at least 1 item"),
        ({"name": ""}, "should match pattern"),
    ],
)
def test_invalid_node_groups_are_rejected(spec: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValidationError, match=message):
        NodeGroupSpec(**spec)


def test_invalid_cluster_args_are_rejected() -> None:
    with pytest.raises(ValidationError, match="should match pattern"):
        EksClusterArgs(private_subnet_ids=[], cluster_name="")
    with pytest.raises(ValidationError, match="unknown log types"):
        EksClusterArgs(private_subnet_ids=[], log_types=["everything"])
    with pytest.raises(ValidationError, match="unique"):
        EksClusterArgs(private_subnet_ids=[], node_groups=[NodeGroupSpec(name="a"), NodeGroupSpec(name="a")])
