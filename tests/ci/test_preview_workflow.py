"""preview.yml's steps run with the environment each job sets: the affected stacks, the preview of a pull request
from this repository (whose failure still renders a comment), and the offline synth of a forked pull request."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
FORKED = "github.event_name == 'pull_request' && github.event.pull_request.head.repo.full_name != github.repository"
CLOUD_VARS = {
    "vars.DATAMCP_BACKEND_URL": "s3://acme-pulumi-state?region=eu-west-1",
    "vars.DATAMCP_SECRETS_PROVIDER": "awskms://alias/acme/pulumi?region=eu-west-1",
    "vars.DATAMCP_AUDIT_URL": "dynamodb://mcp_ops_log?region=eu-west-1",
}
PASSPHRASE = "ci-passphrase-that-must-not-leak-7f3a"
PR = {
    "matrix.stack": "aws-dev",
    "github.event.pull_request.number": "42",
    "github.actor": "alice",
    "secrets.DATAMCP_CONFIG_PASSPHRASE": PASSPHRASE,
    **CLOUD_VARS,
}
SEALING = (
    "github.event_name == 'workflow_dispatch' && github.ref == 'refs/heads/main' && secrets.DATAMCP_SERVER_KEY || ''"
)
SAME_REPO = {**PR, FORKED: "false", SEALING: ""}  # a pull request's job never holds the server key
FORK = {**PR, FORKED: "true", "github.actor": "mallory", "secrets.DATAMCP_CONFIG_PASSPHRASE": "", SEALING: ""}


def comment_files(runner: Any) -> dict[str, str]:
    folder = runner.temp / "preview-comment"
    return {p.name: p.read_text() for p in sorted(folder.iterdir())} if folder.is_dir() else {}


@pytest.mark.slow
def test_the_fork_fallback_synth_exits_0_with_the_job_environment(runner: Any) -> None:
    step = runner.step("preview.yml", "preview", "synth")
    assert step["if"] == "env.FORKED == 'true'"
    env = runner.env("preview.yml", "preview", step, FORK)
    assert env["DATAMCP_BACKEND_URL"] == "" and env["DATAMCP_AUDIT_URL"] == ""  # what the step sets, unchanged
    done = runner.run(step, env)
    assert done.returncode == 0, done.stderr
    files = comment_files(runner)
    assert files["stack"] == "aws-dev\n" and files["pr"] == "42\n"
    assert files["comment.md"].startswith("### DataMCP synth: `aws-dev` (offline)")
    assert "comes from a fork" in files["comment.md"]
    assert files["comment.md"] in runner.summary.read_text()


@pytest.mark.slow
def test_a_failed_preview_still_renders_a_comment_with_the_masked_error(runner: Any) -> None:
    step = runner.step("preview.yml", "preview", "preview")
    assert step["if"] == "env.FORKED != 'true'"
    env = runner.env("preview.yml", "preview", step, SAME_REPO)
    assert env["DATAMCP_CONFIG_PASSPHRASE"] == PASSPHRASE and "PULUMI_CONFIG_PASSPHRASE" not in env
    done = runner.run(step, env)  # no cloud credentials on this runner: the audit table cannot be reached
    assert done.returncode == 1, done.stderr
    files = comment_files(runner)
    assert (files["stack"], files["pr"]) == ("aws-dev\n", "42\n")
    comment = files["comment.md"]
    assert comment.startswith("### DataMCP preview: `aws-dev` failed")
    assert "failed (exit 1); nothing was changed" in comment
    assert "the audit table mcp_ops_log is unreachable" in comment
    assert PASSPHRASE not in comment and PASSPHRASE not in runner.summary.read_text()
    steps = runner.workflow("preview.yml")["jobs"]["preview"]["steps"]
    upload = next(s for s in steps if "comment" in s.get("name", ""))
    assert "!cancelled()" in upload["if"], "the comment is uploaded after a failed preview too"


def test_the_comment_renderer_refuses_a_bad_stack_or_pr_number(runner: Any) -> None:
    step = runner.step("preview.yml", "preview", "synth")
    for bad in ({"matrix.stack": "../aws-dev"}, {"github.event.pull_request.number": "42; echo owned"}):
        env = runner.env("preview.yml", "preview", step, {**FORK, **bad})
        done = runner.run(step, env)
        assert done.returncode == 3 and "render_comment:" in done.stderr
        assert comment_files(runner) == {}


def render_comment() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_comment", ROOT / "scripts" / "ci" / "render_comment.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_failure_comment_masks_the_jobs_secrets_and_keeps_its_code_block_closed() -> None:
    rc = render_comment()
    env = {"DATAMCP_CONFIG_PASSPHRASE": PASSPHRASE, "DATAMCP_SERVER_KEY": "-----fake-server-key-value-----"}
    output = (
        "\x1b[31merror:\x1b[0m decrypting config with " + PASSPHRASE + " failed\n"
        "aws: AKIAIOSFODNN7EXAMPLE rejected\n"
        "```\n<!-- datamcp-preview:gcp-prod -->\n"
    )
    comment = rc.failure_comment("preview", "aws-dev", 255, output, rc.env_masker(env))
    assert PASSPHRASE not in comment and "AKIAIOSFODNN7EXAMPLE" not in comment and "\x1b[" not in comment
    assert "decrypting config with [secret] failed" in comment and "failed (exit 255)" in comment
    assert "\n````text\n" in comment and comment.count("\n````") == 2  # opened and closed by a longer fence


def test_the_decide_step_names_the_dispatched_stack(runner: Any) -> None:
    step = runner.step("preview.yml", "affected", "decide")
    scenario = {
        "github.event_name": "workflow_dispatch",
        "inputs.stack": "gcp-prod",
        "github.event.pull_request.base.sha": "",
        "github.event.pull_request.head.sha": "",
    }
    done = runner.run(step, runner.env("preview.yml", "affected", step, scenario))
    assert done.returncode == 0, done.stderr
    assert runner.outputs() == {"stacks": '["gcp-prod"]'}
    bad = runner.run(step, runner.env("preview.yml", "affected", step, {**scenario, "inputs.stack": '"]; x'}))
    assert bad.returncode == 3 and runner.outputs() == {"stacks": '["gcp-prod"]'}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_the_decide_step_names_the_stacks_a_pull_request_changes(runner: Any) -> None:
    work = runner.workspace
    git(work, "init", "-q")
    git(work, "config", "user.email", "ci@example.invalid")
    git(work, "config", "user.name", "ci")
    (work / "Pulumi.gcp-prod.yaml").write_text("config: {}\n")
    git(work, "add", "Pulumi.gcp-prod.yaml")
    git(work, "commit", "-qm", "base")
    base = git(work, "rev-parse", "HEAD")
    (work / "Pulumi.gcp-prod.yaml").write_text("config: {gcp:region: europe-west1}\n")
    (work / "notes.md").write_text("docs only\n")
    git(work, "add", "Pulumi.gcp-prod.yaml", "notes.md")
    git(work, "commit", "-qm", "head")
    scenario = {
        "github.event_name": "pull_request",
        "inputs.stack": "",
        "github.event.pull_request.base.sha": base,
        "github.event.pull_request.head.sha": git(work, "rev-parse", "HEAD"),
    }
    step = runner.step("preview.yml", "affected", "decide")
    done = runner.run(step, runner.env("preview.yml", "affected", step, scenario))
    assert done.returncode == 0, done.stderr
    assert runner.outputs() == {"stacks": '["gcp-prod"]'}
