from __future__ import annotations

from pathlib import Path

import pytest

from engine.sandbox import fakes
from engine.sandbox.inventory import Inventory
from engine.sandbox.mode import SandboxModeMismatch, ensure_mode, simulated_packages, state_mode
from engine.sandbox.provider import UNKNOWN, diff_inputs


def test_diff_reports_changed_keys_and_force_new_replacements() -> None:
    old = {"cidrBlock": "10.0.0.0/16", "tags": {"a": "1"}, "enableDnsSupport": True}
    assert diff_inputs("aws:ec2/vpc:Vpc", old, dict(old)) == ([], [])
    assert diff_inputs("aws:ec2/vpc:Vpc", old, {**old, "tags": {"a": "2"}}) == (["tags"], [])
    assert diff_inputs("aws:ec2/vpc:Vpc", old, {**old, "cidrBlock": "10.1.0.0/16"}) == (["cidrBlock"], ["cidrBlock"])
    assert diff_inputs("aws:ec2/vpc:Vpc", old, {**old, "cidrBlock": UNKNOWN}) == (["cidrBlock"], ["cidrBlock"])
    removed = {k: v for k, v in old.items() if k != "tags"}
    assert diff_inputs("aws:ec2/vpc:Vpc", old, removed) == (["tags"], [])


def test_nested_force_new_paths() -> None:
    old = {"metadata": {"name": "a", "labels": {"x": "1"}}}
    typ = "kubernetes:core/v1:Secret"
    assert diff_inputs(typ, old, {"metadata": {"name": "a", "labels": {"x": "2"}}}) == (["metadata"], [])
    assert diff_inputs(typ, old, {"metadata": {"name": "b", "labels": {"x": "1"}}}) == (["metadata"], ["metadata"])


def test_fake_outputs_are_deterministic_per_urn_and_marked_simulated() -> None:
    a = fakes.resource_outputs("aws:ec2/vpc:Vpc", "net-vpc", {"cidrBlock": "10.0.0.0/16"}, seed="urn:a")
    again = fakes.resource_outputs("aws:ec2/vpc:Vpc", "net-vpc", {"cidrBlock": "10.0.0.0/16"}, seed="urn:a")
    other = fakes.resource_outputs("aws:ec2/vpc:Vpc", "net-vpc", {"cidrBlock": "10.0.0.0/16"}, seed="urn:b")
    assert a == again and a[0] != other[0]
    assert a[0].startswith("vpc-") and a[1][fakes.SIMULATED_MARKER] is True
    _, cluster = fakes.resource_outputs("aws:eks/cluster:Cluster", "c", {"name": "prod"}, aws_region="eu-west-1")
    assert cluster["endpoint"].endswith(".eu-west-1.eks.amazonaws.com")
    assert cluster["identities"][0]["oidcs"][0]["issuer"].startswith("https://oidc.eks.eu-west-1.amazonaws.com/id/")


def test_invokes_answer_what_the_stacks_use_and_refuse_the_rest() -> None:
    zones = fakes.invoke("aws:index/getAvailabilityZones:getAvailabilityZones", {"region": "eu-west-1"})
    assert zones["names"][:3] == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert fakes.invoke("aws:index/getCallerIdentity:getCallerIdentity", {})["accountId"] == fakes.ACCOUNT_ID
    with pytest.raises(KeyError, match="does not answer"):
        fakes.invoke("aws:ec2/getAmi:getAmi", {})


def test_inventory_round_trip_and_drift(tmp_path: Path) -> None:
    inv = Inventory(tmp_path)
    urn = "urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::data"
    inv.put(urn, "b-1", "aws:s3/bucket:Bucket", {"bucket": "b"}, {"bucket": "b", "tags": {}})
    assert inv.get(urn, "b-1")["id"] == "b-1"  # type: ignore[index]
    assert inv.get(urn, "b-2") is None
    inv.drift(urn, tags={"edited": "by-hand"})
    assert inv.get(urn, "b-1")["outputs"]["tags"] == {"edited": "by-hand"}  # type: ignore[index]
    inv.put(urn, "b-2", "aws:s3/bucket:Bucket", {"bucket": "b2"}, {"bucket": "b2"})  # a replacement's new generation
    assert [r["id"] for r in inv.find(urn)] == ["b-1", "b-2"]
    inv.delete(urn, "b-2")
    assert [r["urn"] for r in inv.list("datamcp", "aws-dev")] == [urn]
    assert inv.list("datamcp", "aws-prod") == []
    inv.delete(urn, "b-1")
    assert inv.get(urn, "b-1") is None and inv.list("datamcp", "aws-dev") == []


SIM, REAL = frozenset(fakes.PACKAGES), frozenset[str]()


def _deployment(*outputs: dict[str, object]) -> dict[str, object]:
    resources: list[dict[str, object]] = [{"type": "pulumi:providers:aws", "custom": True, "outputs": {}}]
    resources += [{"type": "aws:s3/bucket:Bucket", "custom": True, "outputs": o} for o in outputs]
    return {"resources": resources}


def test_finding_a_resource_reads_its_own_generations_only(tmp_path: Path) -> None:
    inv = Inventory(tmp_path)
    urn = "urn:pulumi:dev::p::aws:s3/bucket:Bucket::{}"
    for i in range(50):
        inv.put(urn.format(i), f"id-{i}", "aws:s3/bucket:Bucket", {"n": i}, {})
    inv.put(urn.format(7), "id-7b", "aws:s3/bucket:Bucket", {"n": 7}, {})  # a replacement's second generation
    for other in inv.stack_dir("p", "dev").glob("*/*.json"):
        if '"id-3"' in other.read_text():
            other.write_text("{broken")  # reading it would fail: find must not
    assert [r["id"] for r in inv.find(urn.format(7))] == ["id-7", "id-7b"]
    assert inv.find(urn.format(99)) == []
    inv.delete(urn.format(7), "id-7")
    assert [r["id"] for r in inv.find(urn.format(7))] == ["id-7b"]


def test_state_mode_and_mixing_refusal() -> None:
    sim = {fakes.SIMULATED_MARKER: True}
    assert state_mode({"resources": []}) == "empty"
    assert state_mode(_deployment(sim, sim)) == "sandbox"
    assert state_mode(_deployment({}, {})) == "real"
    assert state_mode(_deployment(sim, {})) == "mixed"
    ensure_mode("aws-dev", _deployment(sim), SIM)
    ensure_mode("aws-dev", _deployment({}), REAL)
    ensure_mode("aws-dev", {"resources": []}, REAL)
    with pytest.raises(SandboxModeMismatch, match="aws resources were made with the simulated cloud"):
        ensure_mode("aws-dev", _deployment(sim), REAL)
    with pytest.raises(SandboxModeMismatch, match="made with the real provider and cannot be updated with the simu"):
        ensure_mode("aws-dev", _deployment({}), SIM)
    with pytest.raises(SandboxModeMismatch, match="both simulated and real aws"):
        ensure_mode("aws-dev", _deployment(sim, {}), SIM)


def test_the_mode_rule_holds_per_provider() -> None:
    """A Kubernetes stack on a real cluster in the sandbox: real kubernetes resources beside simulated aws ones."""
    sim = {fakes.SIMULATED_MARKER: True}
    state = {
        "resources": [
            {"type": "aws:s3/bucket:Bucket", "custom": True, "outputs": sim},
            {"type": "kubernetes:core/v1:Namespace", "custom": True, "outputs": {}},
            {"type": "pulumi:providers:kubernetes", "custom": True, "outputs": {}},
        ]
    }
    real_cluster = simulated_packages(True, "kubernetes", real_cluster=True)
    assert real_cluster == {"aws", "gcp"}
    ensure_mode("k8s-local", state, real_cluster)
    with pytest.raises(SandboxModeMismatch, match="kubernetes resources were made with the real provider"):
        ensure_mode("k8s-local", state, simulated_packages(True, "kubernetes", real_cluster=False))
    assert simulated_packages(True, "aws", real_cluster=True) == {"aws", "gcp", "kubernetes"}  # only k8s stacks
    assert simulated_packages(False, "kubernetes", real_cluster=True) == frozenset()


def test_plugin_info_config_and_invokes_over_the_servicer(tmp_path: Path) -> None:
    from importlib.metadata import version

    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import provider_pb2

    from engine.sandbox.provider import SimulatedProvider, to_dict

    provider = SimulatedProvider("aws", Inventory(tmp_path), version("pulumi-aws"))
    assert provider.GetPluginInfo(None, None).version == version("pulumi-aws")
    args = struct_pb2.Struct()
    args.update({"region": "eu-west-1"})
    configured = provider.Configure(provider_pb2.ConfigureRequest(args=args), None)
    assert configured.supportsPreview and not configured.acceptSecrets
    request = provider_pb2.InvokeRequest(
        tok="aws:index/getAvailabilityZones:getAvailabilityZones", args=struct_pb2.Struct()
    )
    zones = to_dict(getattr(provider.Invoke(request, None), "return"))
    assert zones["names"][0] == "eu-west-1a"
    unknown = provider.Invoke(provider_pb2.InvokeRequest(tok="aws:ec2/getAmi:getAmi", args=struct_pb2.Struct()), None)
    assert "does not answer" in unknown.failures[0].reason
