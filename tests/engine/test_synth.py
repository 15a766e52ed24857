from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.cli import main
from engine.errors import InvalidInput, StackNotFound
from engine.synth import synth

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_concurrent_synths_of_different_stacks_do_not_leak_into_each_other() -> None:
    """Worker isolation: run aws-dev and gcp-dev at the same time, twice each, and compare with sequential runs."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(synth, s, ROOT) for s in ("aws-dev", "gcp-dev", "aws-dev", "gcp-dev")]
        aws1, gcp1, aws2, gcp2 = (f.result(timeout=300) for f in futures)
    for aws in (aws1, aws2):
        assert aws.stack == "aws-dev"
        assert all(r.urn.startswith("urn:pulumi:aws-dev::datamcp::") for r in aws.resources)
        assert not any(r.type.startswith("gcp:") for r in aws.resources)
    for gcp in (gcp1, gcp2):
        assert gcp.stack == "gcp-dev"
        assert all(r.urn.startswith("urn:pulumi:gcp-dev::datamcp::") for r in gcp.resources)
        assert not any(r.type.startswith("aws:") for r in gcp.resources)
    assert aws1 == aws2 and gcp1 == gcp2
    assert aws1 == synth("aws-dev", ROOT, isolated=False)


@pytest.mark.parametrize(
    "bad", ["../Pulumi", "--help", "aws_dev", "AWS-DEV", "\u0430ws-dev", "aws-dev\n", "", "a" * 80]
)
def test_bad_stack_names_are_refused_before_anything_runs(bad: str) -> None:
    with pytest.raises(InvalidInput):
        synth(bad, ROOT)


def test_unknown_stack_is_a_typed_error() -> None:
    with pytest.raises(StackNotFound, match="known stacks: aws-dev, aws-prod, aws-scale, gcp-dev, gcp-prod"):
        synth("azure-dev", ROOT)


def test_cli_synth_json_is_stable_and_sorted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "gcp-dev", "--format", "json"]) == 0
    first = capsys.readouterr().out
    assert main(["synth", "gcp-dev", "--format", "json"]) == 0
    assert capsys.readouterr().out == first
    doc = json.loads(first)
    assert first == json.dumps(doc, sort_keys=True, indent=2) + "\n"
    urns = [r["urn"] for r in doc["resources"]]
    assert urns == sorted(urns)
    assert doc["schema_version"] == 1
    assert doc["resource_count"] == len(doc["resources"]) == sum(doc["counts_by_type"].values())


def test_cli_synth_tree_shows_components_children_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "aws-dev"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == "datamcp/aws-dev"
    network = lines.index("├─ datamcp:aws:Network  network")
    assert lines[network + 1].startswith("│  ├─ aws:")
    assert any(line.startswith("  aws:ec2/subnet:Subnet") and line.endswith(" 4") for line in lines)
    assert "  kubeconfig: [secret]" in lines
    assert "cloud resources):" in out


def test_cli_synth_bad_stack_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", "../../etc/passwd"]) == 3
    assert "not a valid stack name" in capsys.readouterr().err
