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


def test_the_five_workflows_exist() -> None:
    assert set(WORKFLOWS) >= {"ci.yml", "preview.yml", "preview-comment.yml", "apply.yml", "drift.yml"}


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
        assert "scripts/ci/approve-as-reviewer.sh" in runs and "datamcp up" in runs
    approve = (ROOT / "scripts" / "ci" / "approve-as-reviewer.sh").read_text()
    assert 'approve "$PREVIEW_ID" --as-server --approver "github:$reviewer"' in approve


def test_no_workflow_uses_long_lived_cloud_keys() -> None:
    for name, path in WORKFLOWS.items():
        text = path.read_text()
        for forbidden in ("AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "credentials_json", "GOOGLE_CREDENTIALS"):
            assert forbidden not in text, f"{name} uses {forbidden}"


def test_preview_renders_the_comments_and_falls_back_to_synth_for_forks() -> None:
    doc = load("preview.yml")
    assert "pull_request" in doc["on"] and "pull_request_target" not in doc["on"]
    job = doc["jobs"]["preview"]
    runs = "\n".join(str(s.get("run", "")) for s in steps(job))
    assert "render_comment.py preview" in runs and "render_comment.py synth" in runs
    upload = [s for s in steps(job) if s.get("with", {}).get("name") == "preview-comment-${{ matrix.stack }}"]
    assert len(upload) == 1 and "!cancelled()" in upload[0]["if"]
    assert "github-script" not in WORKFLOWS["preview.yml"].read_text()


def test_only_the_workflow_run_job_writes_to_pull_requests_and_it_runs_no_pull_request_code() -> None:
    writers = {
        (name, job_name)
        for name in WORKFLOWS
        for job_name, job in load(name)["jobs"].items()
        if job["permissions"].get("pull-requests") == "write"
    }
    assert writers == {("preview-comment.yml", "comment")}
    doc = load("preview-comment.yml")
    assert doc["on"] == {"workflow_run": {"workflows": ["preview"], "types": ["completed"]}}
    job = doc["jobs"]["comment"]
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]
    checkouts = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert [s["with"]["ref"] for s in checkouts] == ["${{ github.event.repository.default_branch }}"]
    text = WORKFLOWS["preview-comment.yml"].read_text()
    for untrusted in ("head_branch", "head_repository", "pull_request.head", "make ", ".venv", "bootstrap"):
        assert untrusted not in text, f"preview-comment.yml must not use {untrusted!r}"
    assert [s.get("run") for s in steps(job) if s.get("run")] == ["python3 scripts/ci/post_preview_comments.py"]


def test_workflows_give_the_engine_its_own_passphrase_variable() -> None:
    for name, path in WORKFLOWS.items():
        text = path.read_text()
        assert "PULUMI_CONFIG_PASSPHRASE" not in text, f"{name}: set DATAMCP_CONFIG_PASSPHRASE (the engine's)"
        for job_name, job in load(name)["jobs"].items():
            scopes = [job.get("env") or {}, *(s.get("env") or {} for s in steps(job))]
            uses_cloud = any("DATAMCP_BACKEND_URL" in scope for scope in scopes)
            if uses_cloud and job_name != "preview":  # preview sets it on its preview step only (not for forks)
                assert (job.get("env") or {}).get("DATAMCP_CONFIG_PASSPHRASE") == (
                    "${{ secrets.DATAMCP_CONFIG_PASSPHRASE }}"
                ), f"{name}/{job_name}"
    preview = {s.get("id"): s for s in steps(load("preview.yml")["jobs"]["preview"])}
    assert preview["preview"]["env"] == {"DATAMCP_CONFIG_PASSPHRASE": "${{ secrets.DATAMCP_CONFIG_PASSPHRASE }}"}
    assert "DATAMCP_CONFIG_PASSPHRASE" not in preview["synth"]["env"]
    # forked pull requests get the policy pack's verdict on the offline graph (docs/policy.md)
    assert preview["policy"]["run"] == '.venv/bin/datamcp policy eval "$STACK"'
    assert preview["policy"]["if"] == "env.FORKED == 'true'"
    assert "DATAMCP_CONFIG_PASSPHRASE" not in preview["policy"]["env"]


@pytest.mark.parametrize("name", sorted(WORKFLOWS))
def test_run_steps_are_single_commands_and_the_logic_lives_in_tested_scripts(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in steps(job):
            run = str(step.get("run", ""))
            assert "\n" not in run.strip(), f"{name}: a multi-line run step belongs in scripts/ci/: {run[:60]!r}"
            for control in (";", "&&", "||", "|", "$(", "`", " if ", " for ", ">"):
                assert control not in run, f"{name}: {control!r} in a run step belongs in scripts/ci/: {run!r}"


@pytest.mark.parametrize("script", sorted((ROOT / "scripts" / "ci").iterdir()), ids=lambda p: p.name)
def test_ci_scripts_stop_at_the_first_failure(script: Path) -> None:
    text = script.read_text()
    if script.suffix == ".sh":
        assert text.startswith("#!/usr/bin/env bash\n") and "\nset -euo pipefail\n" in text
        assert script.stat().st_mode & 0o111, f"{script.name} is not executable"
    else:
        assert script.suffix == ".py" and 'if __name__ == "__main__":' in text


def test_drift_is_scheduled_and_opens_issues() -> None:
    doc = load("drift.yml")
    assert doc["on"]["schedule"]
    job = doc["jobs"]["drift"]
    assert "scripts/ci/check-drift.sh" in " ".join(str(s.get("run", "")) for s in steps(job))
    assert "refresh" in (ROOT / "scripts" / "ci" / "check-drift.sh").read_text()
    assert job["permissions"].get("issues") == "write"


@pytest.mark.parametrize(
    ("changed", "expected"),
    [
        ("components/aws/network.py", ["aws-dev", "aws-prod", "aws-scale", "gcp-dev", "gcp-prod", "k8s-local"]),
        ("engine/operations.py", ["aws-dev", "aws-prod", "aws-scale", "gcp-dev", "gcp-prod", "k8s-local"]),
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
