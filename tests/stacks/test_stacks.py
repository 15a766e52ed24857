from __future__ import annotations

import json
import runpy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.errors import StackConfigInvalid
from engine.mocks import run_program
from engine.results import SynthResource, SynthResult
from engine.stack_config import read_stack_config
from engine.synth import synth
from stacks import registry
from stacks.program import program

ROOT = Path(__file__).resolve().parents[2]
DEV_REPO_TOKEN = (
    "ghp_sandboxDevTokenNotReal0123456789abcd"  # the plaintext behind Pulumi.{aws,gcp}-dev.yaml's secure value
)
Synthed = Callable[[str], SynthResult]


def only(result: SynthResult, typ: str) -> SynthResource:
    found = [r for r in result.resources if r.type == typ]
    assert len(found) == 1, (typ, len(found))
    return found[0]


def test_registry_lists_six_stacks_with_cloud_environment_and_model() -> None:
    specs = registry.list_stacks()
    assert [(s.name, s.cloud, s.environment) for s in specs] == [
        ("aws-dev", "aws", "dev"),
        ("aws-prod", "aws", "prod"),
        ("aws-scale", "aws", "dev"),
        ("gcp-dev", "gcp", "dev"),
        ("gcp-prod", "gcp", "prod"),
        ("k8s-local", "kubernetes", "dev"),
    ]
    for s in specs:
        assert s.description and (ROOT / s.config_file).is_file()
        assert "properties" in s.config_model.model_json_schema()
    with pytest.raises(registry.UnknownStack, match="known stacks: aws-dev"):
        registry.get("azure-dev")


@pytest.mark.parametrize("stack", ["aws-dev", "aws-prod"])
def test_aws_stacks_compose_the_expected_components(synthed: Synthed, stack: str) -> None:
    result = synthed(stack)
    components = {r.type for r in result.resources if not r.custom}
    assert components == {
        "datamcp:aws:Network",
        "datamcp:aws:EksCluster",
        "datamcp:aws:ServiceRole",
        "datamcp:aws:Storage",
        "datamcp:aws:OpsLogTable",
        "datamcp:k8s:ArgoCd",
        "datamcp:k8s:HelmRelease",
        "datamcp:k8s:ArgoCdApp",
    }
    assert result.counts_by_type["aws:eks/cluster:Cluster"] == 1
    app = only(result, "kubernetes:argoproj.io/v1alpha1:Application")
    assert app.inputs["spec"]["source"]["path"] == "charts/datamcp"
    assert only(result, "kubernetes:helm.sh/v3:Release").urn in app.dependencies
    provider = only(result, "pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] in ("[secret]", "[unknown]")
    assert all(
        r.provider and r.provider.startswith(provider.urn) for r in result.resources if r.type.startswith("kubernetes:")
    )


@pytest.mark.parametrize("stack", ["gcp-dev", "gcp-prod"])
def test_gcp_stacks_compose_the_expected_components(synthed: Synthed, stack: str) -> None:
    result = synthed(stack)
    components = {r.type for r in result.resources if not r.custom}
    assert components == {
        "datamcp:gcp:Network",
        "datamcp:gcp:GkeCluster",
        "datamcp:gcp:Storage",
        "datamcp:k8s:ArgoCd",
        "datamcp:k8s:HelmRelease",
        "datamcp:k8s:ArgoCdApp",
    }
    assert result.counts_by_type["gcp:container/cluster:Cluster"] == 1


def test_aws_dev_and_prod_differ_only_where_configured(synthed: Synthed) -> None:
    dev, prod = synthed("aws-dev"), synthed("aws-prod")
    assert (
        dev.counts_by_type["aws:ec2/natGateway:NatGateway"],
        prod.counts_by_type["aws:ec2/natGateway:NatGateway"],
    ) == (1, 3)
    assert (dev.counts_by_type["aws:ec2/subnet:Subnet"], prod.counts_by_type["aws:ec2/subnet:Subnet"]) == (4, 6)
    assert (dev.counts_by_type["aws:eks/nodeGroup:NodeGroup"], prod.counts_by_type["aws:eks/nodeGroup:NodeGroup"]) == (
        1,
        2,
    )
    dev_vpc = only(dev, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    prod_vpc = only(prod, "aws:eks/cluster:Cluster").inputs["vpcConfig"]
    assert (dev_vpc["endpointPublicAccess"], prod_vpc["endpointPublicAccess"]) == (True, False)
    assert dev_vpc["publicAccessCidrs"] == ["203.0.113.0/24"] and "publicAccessCidrs" not in prod_vpc
    dev_table, prod_table = only(dev, "aws:dynamodb/table:Table"), only(prod, "aws:dynamodb/table:Table")
    assert (dev_table.inputs["deletionProtectionEnabled"], prod_table.inputs["deletionProtectionEnabled"]) == (
        False,
        True,
    )
    assert (dev_table.protect, prod_table.protect) == (False, True)
    assert only(dev, "aws:s3/bucket:Bucket").inputs["forceDestroy"] is True
    assert only(prod, "aws:s3/bucket:Bucket").inputs["forceDestroy"] is False
    # Same program: the set of resource types is the same apart from the dev-only repo credentials.
    assert set(dev.counts_by_type) - set(prod.counts_by_type) == {"kubernetes:core/v1:Secret"}
    assert set(prod.counts_by_type) <= set(dev.counts_by_type)


def test_gcp_dev_and_prod_differ_only_where_configured(synthed: Synthed) -> None:
    dev, prod = synthed("gcp-dev"), synthed("gcp-prod")
    dev_c, prod_c = only(dev, "gcp:container/cluster:Cluster"), only(prod, "gcp:container/cluster:Cluster")
    assert dev_c.inputs["privateClusterConfig"]["enablePrivateEndpoint"] is False
    assert prod_c.inputs["privateClusterConfig"]["enablePrivateEndpoint"] is True
    assert (dev_c.inputs["releaseChannel"], prod_c.inputs["releaseChannel"]) == (
        {"channel": "REGULAR"},
        {"channel": "STABLE"},
    )
    assert (dev_c.inputs["deletionProtection"], prod_c.inputs["deletionProtection"]) == (False, True)
    assert prod_c.protect is True
    assert (
        dev.counts_by_type["gcp:container/nodePool:NodePool"],
        prod.counts_by_type["gcp:container/nodePool:NodePool"],
    ) == (1, 2)
    assert dev_c.inputs["project"] == "datamcp-dev" and prod_c.inputs["project"] == "datamcp-prod"


@pytest.mark.parametrize("stack", ["aws-dev", "gcp-dev"])
def test_config_secrets_stay_secret_in_synth(synthed: Synthed, stack: str) -> None:
    _config, secret_keys = read_stack_config(ROOT, stack)
    assert secret_keys == ["datamcp:repo_token"]
    text = json.dumps(synthed(stack).model_dump(mode="json"))
    encrypted = (ROOT / f"Pulumi.{stack}.yaml").read_text().split("secure: ")[1].split()[0]
    assert DEV_REPO_TOKEN not in text and encrypted not in text
    creds = only(synthed(stack), "kubernetes:core/v1:Secret")
    assert creds.inputs["stringData"] == "[secret]"
    assert synthed(stack).outputs["kubeconfig"] == "[secret]"


def test_operator_entry_point_and_inline_program_build_identical_graphs() -> None:
    config, secret_keys = read_stack_config(ROOT, "aws-dev")
    main = str(ROOT / "stacks" / "__main__.py")

    def graph(fn: Callable[[], Any]) -> list[tuple[str, str, list[str]]]:
        run = run_program(fn, stack="aws-dev", config=config, secret_keys=secret_keys, preview=True, computed=False)
        return sorted((r.urn, json.dumps(r.inputs, sort_keys=True), r.dependencies) for r in run.resources)

    inline = graph(program)
    via_main = graph(lambda: runpy.run_path(main, run_name="__main__"))
    assert inline and inline == via_main
    assert "program" in (ROOT / "stacks" / "__main__.py").read_text()


def _set(path: list[str], value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        node = config
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("stack", "edit", "key", "message"),
    [
        ("aws-dev", _set(["datamcp:network", "az_count"], "two"), "datamcp:network.az_count", "valid integer"),
        ("aws-dev", _set(["datamcp:colour"], "blue"), "datamcp:colour", "unknown key"),
        ("aws-dev", _set(["datamcp:network", "cidrr"], "10.0.0.0/16"), "datamcp:network.cidrr", "Extra inputs"),
        ("aws-dev", lambda c: c.pop("aws:region"), "aws:region", "Field required"),
        (
            "aws-dev",
            _set(["datamcp:cluster", "node_groups"], [{"name": "x", "min_size": 5, "max_size": 2, "desired_size": 3}]),
            "datamcp:cluster.node_groups.0",
            "min_size 5 > max_size 2",
        ),
        ("aws-dev", _set(["gcp:project"], "p"), "gcp:project", "does not belong to a aws stack"),
        ("aws-prod", _set(["datamcp:network"], {"secure": "v1:abc"}), "datamcp:network", "only repo_token"),
        (
            "gcp-prod",
            _set(["datamcp:argocd"], {"chart_version": "latest"}),
            "datamcp:argocd.chart_version",
            "exact chart version",
        ),
        ("gcp-prod", lambda c: c.pop("gcp:project"), "gcp:project", "Field required"),
    ],
)
def test_invalid_config_names_the_file_and_the_key(
    edited_root: Callable[..., Path], stack: str, edit: Callable[[dict[str, Any]], None], key: str, message: str
) -> None:
    root = edited_root(stack, edit)
    with pytest.raises(StackConfigInvalid) as info:
        synth(stack, root, isolated=False)
    assert info.value.details["file"] == f"Pulumi.{stack}.yaml"
    assert info.value.details["key"] == key
    assert message in info.value.message
    assert info.value.message.startswith(f"Pulumi.{stack}.yaml: {key}: ")


def test_the_k8s_stack_releases_the_chart_into_its_own_namespace(synthed: Synthed) -> None:
    result = synthed("k8s-local")
    assert {r.type for r in result.resources if not r.custom} == {"datamcp:k8s:HelmRelease"}  # Argo CD is off
    release = only(result, "kubernetes:helm.sh/v3:Release")
    namespace = only(result, "kubernetes:core/v1:Namespace")
    assert release.inputs["chart"] == "./charts/datamcp" and release.inputs["namespace"] == "datamcp"
    assert release.inputs["createNamespace"] is False and namespace.urn in release.dependencies
    assert release.inputs["skipAwait"] is True  # the local API server has no kubelet (Pulumi.k8s-local.yaml)
    assert release.inputs["atomic"] is False  # Helm's atomic install would wait for readiness
    provider = only(result, "pulumi:providers:kubernetes")
    assert provider.inputs["kubeconfig"] == "[secret]"  # the cluster's credential stays a secret
    kubernetes = [r for r in result.resources if r.custom and r.type != provider.type]
    assert kubernetes and all(r.provider and r.provider.startswith(provider.urn) for r in kubernetes)


def test_the_k8s_stack_installs_argo_cd_from_a_chart_in_the_repo_when_asked(
    edited_root: Callable[[str, Callable[[dict[str, Any]], None]], Path],
) -> None:
    def edit(config: dict[str, Any]) -> None:
        config["datamcp:argocd"] = {"enabled": True, "chart_path": "charts/argo-cd-offline", "cascade_delete": False}

    result = synth("k8s-local", edited_root("k8s-local", edit), isolated=False)
    releases = [r for r in result.resources if r.type == "kubernetes:helm.sh/v3:Release"]
    assert sorted(r.inputs["chart"] for r in releases) == ["./charts/argo-cd-offline", "./charts/datamcp"]
    assert all("repositoryOpts" not in r.inputs for r in releases)  # nothing is downloaded
    app = only(result, "kubernetes:argoproj.io/v1alpha1:Application")
    assert "finalizers" not in app.inputs["metadata"]  # no Argo CD controller would ever remove it
    assert app.inputs["spec"]["destination"]["namespace"] == "datamcp"
