"""Safety properties of the GitHub Actions workflows (actionlint runs in tests/test_repository.py)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = {p.name: p for p in sorted((ROOT / ".github" / "workflows").glob("*.yml"))}
OIDC_ACTIONS = ("aws-actions/configure-aws-credentials", "google-github-actions/auth")


def load(name: str) -> dict[str, Any]:
    doc = yaml.safe_load(WORKFLOWS[name].read_text())
    doc["on"] = doc.pop(True, doc.get("on"))  # YAML 1.1 reads the key `on` as True
    return doc  # type: ignore[no-any-return]


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job.get("steps") or [])


def test_the_four_workflows_exist() -> None:
    assert set(WORKFLOWS) >= {"ci.yml", "preview.yml", "apply.yml", "drift.yml"}


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_third_party_actions_are_pinned_to_full_commit_shas(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in steps(job):
            uses = step.get("uses")
            if uses and not uses.startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"{name}: {uses} is not pinned to a SHA"


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_permissions_are_least_privilege_per_job(name: str) -> None:
    doc = load(name)
    assert doc.get("permissions") == {"contents": "read"}, f"{name}: the workflow default must be contents: read"
    for job_name, job in doc["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict), f"{name}/{job_name}: no job-level permissions"
        assert "write-all" not in str(perms)
        uses_oidc = any(str(s.get("uses", "")).startswith(OIDC_ACTIONS) for s in steps(job))
        assert (perms.get("id-token") == "write") == uses_oidc, f"{name}/{job_name}: id-token only with OIDC"
        for scope, level in perms.items():
            assert level in ("read", "write", "none"), f"{name}/{job_name}: {scope}={level}"


def test_apply_runs_only_on_dispatch_from_main_in_a_stack_environment_one_at_a_time() -> None:
    doc = load("apply.yml")
    assert set(doc["on"]) == {"workflow_dispatch"}
    assert set(doc["on"]["workflow_dispatch"]["inputs"]) == {"stack", "preview_id"}
    assert doc["concurrency"]["group"] == "apply-${{ inputs.stack }}"
    assert doc["concurrency"]["cancel-in-progress"] is False
    for job in doc["jobs"].values():
        assert job["environment"] == "${{ inputs.stack }}"
        assert "refs/heads/main" in job["if"]
        runs = " ".join(str(s.get("run", "")) for s in steps(job))
        assert "datamcp approve" in runs and "datamcp up" in runs
        assert "--approver" in runs


def test_no_workflow_uses_long_lived_cloud_keys() -> None:
    for name, path in WORKFLOWS.items():
        text = path.read_text()
        for forbidden in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "credentials_json", "GOOGLE_CREDENTIALS"):
            assert forbidden not in text, f"{name} uses {forbidden}"


def test_preview_comments_once_per_stack_and_falls_back_to_synth_for_forks() -> None:
    doc = load("preview.yml")
    assert "pull_request" in doc["on"] and "pull_request_target" not in doc["on"]
    job = doc["jobs"]["preview"]
    runs = "\n".join(str(s.get("run", "")) for s in steps(job))
    assert "datamcp preview" in runs and "--format markdown" in runs
    assert "datamcp synth" in runs
    script = "\n".join(str(s.get("with", {}).get("script", "")) for s in steps(job))
    assert "datamcp-preview:${stack}" in script and "updateComment" in script


def test_drift_is_scheduled_and_opens_issues() -> None:
    doc = load("drift.yml")
    assert doc["on"]["schedule"]
    job = doc["jobs"]["drift"]
    assert "refresh" in " ".join(str(s.get("run", "")) for s in steps(job))
    assert job["permissions"].get("issues") == "write"


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ("components/aws/network.py", ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"]),
        ("engine/operations.py", ["aws-dev", "aws-prod", "gcp-dev", "gcp-prod"]),
        ("Pulumi.gcp-prod.yaml", ["gcp-prod"]),
        ("Pulumi.aws-dev.yaml\nPulumi.gcp-dev.yaml\ndocs/x.md", ["aws-dev", "gcp-dev"]),
        ("docs/ci.md\ntests/test_x.py", []),
    ],
)
def test_affected_stacks(changed: str, expected: list[str]) -> None:
    out = subprocess.run(
        ["python3", str(ROOT / "scripts" / "ci" / "affected_stacks.py")],
        input=changed,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert yaml.safe_load(out) == expected
