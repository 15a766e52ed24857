from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pydantic import ValidationError

from components.aws import EksCluster, EksClusterArgs, ServiceRole, ServiceRoleArgs
from engine import mocks
from engine.mocks import ProgramRun

Run = Callable[..., ProgramRun]
ROLE = "aws:iam/role:Role"
ATTACH = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
SERVICE_ROLE = "datamcp:aws:ServiceRole"
EKS_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]


def service_role(mock_run: Run, name: str = "lambda", **args: Any) -> ProgramRun:
    def program() -> None:
        ServiceRole(name, ServiceRoleArgs(**{"service": "lambda.amazonaws.com", **args}))

    return mock_run(program, stack="aws-dev")


@pytest.fixture
def aliases(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """URN of each registered resource -> the URNs its aliases name, computed as the engine computes URNs."""
    seen: dict[str, list[str]] = {}
    register = mocks._RecordingMonitor.RegisterResource

    def record(monitor: mocks._RecordingMonitor, request: Any) -> Any:
        response = register(monitor, request)
        urns = []
        for alias in request.aliases:
            spec = alias.spec
            assert not alias.urn and not spec.stack and not spec.project and not spec.noParent
            urns.append(monitor.make_urn(spec.parentUrn, spec.type or request.type, spec.name or request.name))
        seen[response.urn] = urns
        return response

    monkeypatch.setattr(mocks._RecordingMonitor, "RegisterResource", record)
    return seen


def test_the_role_trusts_only_its_service_and_holds_only_the_given_managed_policies(mock_run: Run) -> None:
    run = service_role(mock_run, managed_policies=EKS_POLICIES, tags={"team": "data"})
    role = run.one(ROLE)
    trust = json.loads(role.raw_inputs["assumeRolePolicy"])
    assert trust["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert role.raw_inputs["tags"] == {
        "project": "datamcp",
        "stack": "aws-dev",
        "managed-by": "datamcp",
        "team": "data",
    }
    attachments = {a.name: a.raw_inputs for a in run.of_type(ATTACH)}
    assert attachments == {
        f"lambda-{p}": {"role": role.outputs["name"], "policyArn": f"arn:aws:iam::aws:policy/{p}"} for p in EKS_POLICIES
    }


def test_no_managed_policies_unless_asked_and_no_session_tags_unless_asked(mock_run: Run) -> None:
    run = service_role(mock_run)
    assert run.of_type(ATTACH) == []
    trust = json.loads(run.one(ROLE).raw_inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Action"] == "sts:AssumeRole"
    tagged = json.loads(service_role(mock_run, tag_session=True).one(ROLE).raw_inputs["assumeRolePolicy"])
    assert tagged["Statement"][0]["Action"] == ["sts:AssumeRole", "sts:TagSession"]


def test_children_are_parented_to_the_component_which_outputs_the_role(mock_run: Run) -> None:
    run = service_role(mock_run, managed_policies=EKS_POLICIES)
    component = run.one(SERVICE_ROLE)
    assert {r.name for r in run.children_of(component.urn)} == {"lambda-role", *(f"lambda-{p}" for p in EKS_POLICIES)}
    role = run.one(ROLE)
    assert role.urn == "urn:pulumi:aws-dev::datamcp::datamcp:aws:ServiceRole$aws:iam/role:Role::lambda-role"
    assert component.outputs == {"arn": role.outputs["arn"], "name": role.outputs["name"]}


def test_the_physical_name_is_derived_and_bounded_unless_given(mock_run: Run) -> None:
    derived = service_role(mock_run).one(ROLE).raw_inputs["name"]
    assert derived == "datamcp-aws-dev-lambda"
    long = service_role(mock_run, name="x" * 80).one(ROLE).raw_inputs["name"]
    assert len(long) == 64
    assert service_role(mock_run, role_name="my.role@team").one(ROLE).raw_inputs["name"] == "my.role@team"


def test_moved_from_aliases_every_child_to_its_urn_under_the_old_parent(
    mock_run: Run, aliases: dict[str, list[str]]
) -> None:
    def program() -> None:
        old_parent = pulumi.ComponentResource("datamcp:test:Old", "old")
        ServiceRole(
            "svc",
            ServiceRoleArgs(service="ec2.amazonaws.com", managed_policies=EKS_POLICIES),
            opts=pulumi.ResourceOptions(parent=old_parent),
            moved_from=old_parent,
        )

    run = mock_run(program, stack="aws-dev")
    old = "urn:pulumi:aws-dev::datamcp::datamcp:test:Old$"
    assert {r.name: aliases[r.urn] for r in run.resources if r.type in (ROLE, ATTACH)} == {
        "svc-role": [old + "aws:iam/role:Role::svc-role"],
        **{f"svc-{p}": [old + f"{ATTACH}::svc-{p}"] for p in EKS_POLICIES},
    }
    assert aliases[run.one(SERVICE_ROLE).urn] == []


def test_without_moved_from_there_are_no_aliases(mock_run: Run, aliases: dict[str, list[str]]) -> None:
    run = service_role(mock_run, managed_policies=EKS_POLICIES)
    assert all(aliases[r.urn] == [] for r in run.resources)


def test_eks_roles_keep_the_urns_an_existing_deployment_has_in_its_state(
    mock_run: Run, aliases: dict[str, list[str]]
) -> None:
    """Before ServiceRole, the roles and attachments were direct children of the EksCluster: these are their URNs."""
    run = mock_run(lambda: EksCluster("eks", EksClusterArgs(private_subnet_ids=["subnet-a"])), stack="aws-dev")
    old = "urn:pulumi:aws-dev::datamcp::datamcp:aws:EksCluster$"
    expected = {
        old + "aws:iam/role:Role::eks-cluster-role",
        old + f"{ATTACH}::eks-cluster-AmazonEKSClusterPolicy",
        old + "aws:iam/role:Role::eks-node-role",
        *(old + f"{ATTACH}::eks-node-{p}" for p in [*EKS_POLICIES, "AmazonEC2ContainerRegistryReadOnly"]),
    }
    moved = [r for r in run.resources if r.type in (ROLE, ATTACH)]
    assert {urn for r in moved for urn in aliases[r.urn]} == expected
    assert all(len(aliases[r.urn]) == 1 for r in moved)
    assert {r.parent for r in moved} == {r.urn for r in run.of_type(SERVICE_ROLE)}
    assert {r.parent for r in run.of_type(SERVICE_ROLE)} == {run.one("datamcp:aws:EksCluster").urn}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"service": "lambda"}, "should match pattern"),
        ({"service": "evil.example.com"}, "should match pattern"),
        ({"managed_policies": ["AmazonEKS_CNI_Policy", "AmazonEKS_CNI_Policy"]}, "must be unique"),
        ({"managed_policies": ["arn:aws:iam::aws:policy/AdministratorAccess"]}, "must be a managed policy name"),
        ({"managed_policies": [""]}, "must be a managed policy name"),
        ({"role_name": "r" * 65}, "should match pattern"),
        ({"role_name": "has space"}, "should match pattern"),
    ],
)
def test_invalid_args_are_rejected(args: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ServiceRoleArgs(**{"service": "ec2.amazonaws.com", **args})
