"""apply.yml's approve step with the environment the job sets: the reviewer who approved the run in the stack's
GitHub environment becomes the approver, signed by the server key. `gh` is a fake that answers who approved."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def server_key() -> str:
    """The repository's server key secret (one for the whole run, as the repository has one)."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    return pem.decode()


def scenario(base: Path, preview_id: str) -> dict[str, str]:
    """A team on a file backend (the simplest real backend) applying gcp-dev."""
    return {
        "inputs.stack": "gcp-dev",
        "inputs.preview_id": preview_id,
        "vars.DATAMCP_BACKEND_URL": (base / "backend").as_uri(),
        "vars.DATAMCP_SECRETS_PROVIDER": "passphrase",
        "vars.DATAMCP_AUDIT_URL": f"sqlite:///{base / 'audit.db'}",
        "secrets.DATAMCP_SERVER_KEY": server_key(),
        "secrets.DATAMCP_CONFIG_PASSPHRASE": "",
        "github.token": "ghs_fakeTokenForTheTests0123456789",
    }


def trust_list(base: Path) -> Path:
    """The team's approvers.yaml: carol, known to CI by her GitHub login."""
    key = base / "carol-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True, timeout=30)
    carol = {
        "principal": "carol",
        "aliases": ["github:carol"],
        "roles": ["approver"],
        "environments": ["dev"],
        "keys": [key.with_name("carol-key.pub").read_text().strip()],
    }
    path = base / "approvers.yaml"
    path.write_text(json.dumps({"version": 1, "approvers": [carol]}))
    return path


def approve(runner: Any, fake_gh: Any, preview_id: str, approved_by: str) -> Any:
    fake_gh.state = {"approved_by": approved_by}
    step = runner.step("apply.yml", "apply", "approve")
    env = runner.env("apply.yml", "apply", step, scenario(runner.base, preview_id))
    assert env["DATAMCP_APPROVAL_MODE"] == "signed" and env["DATAMCP_SANDBOX"] == "0"
    trust = {"DATAMCP_APPROVERS_FILE": str(trust_list(runner.base))}
    return runner.run(step, {**env, **fake_gh.env(), **trust})


def previewed_by(runner: Any, requester: str, sealed: bool = True) -> str:
    """A saved preview of gcp-dev in the runner's state, made against the simulated cloud: by preview.yml run by hand
    from main (sealed with the server key), or by a pull request's job (no key: not sealed)."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DATAMCP_")},
        "DATAMCP_STATE_DIR": str(runner.base / "state"),
        "DATAMCP_BACKEND_URL": (runner.base / "backend").as_uri(),
        "DATAMCP_AUDIT_URL": f"sqlite:///{runner.base / 'audit.db'}",
        "DATAMCP_SANDBOX": "1",
        **({"DATAMCP_SERVER_KEY": server_key()} if sealed else {}),
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("datamcp")), "preview", "gcp-dev", "--user", requester, "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return str(json.loads(done.stdout)["preview_id"])


@pytest.mark.slow
def test_the_reviewer_who_approved_the_run_approves_the_preview(runner: Any, fake_gh: Any) -> None:
    preview_id = previewed_by(runner, "github:alice")
    done = approve(runner, fake_gh, preview_id, approved_by="carol")
    assert done.returncode == 0, done.stderr
    approval_id = runner.outputs()["approval_id"]
    assert f"as github:carol (approval {approval_id})" in done.stdout
    [call] = fake_gh.calls()
    assert call["argv"][:2] == ["api", "repos/acme/infra/actions/runs/555/approvals"]


@pytest.mark.slow
def test_the_author_of_the_preview_cannot_approve_it_as_the_reviewer(runner: Any, fake_gh: Any) -> None:
    preview_id = previewed_by(runner, "github:carol")
    done = approve(runner, fake_gh, preview_id, approved_by="carol")
    assert done.returncode == 4 and "approval_id" not in runner.outputs()


def test_no_reviewer_means_no_approval(runner: Any, fake_gh: Any) -> None:
    done = approve(runner, fake_gh, "0f0e5a3c-1d2b-4c5d-8e9f-0a1b2c3d4e5f", approved_by="")
    assert done.returncode == 4 and "configure required reviewers on the 'gcp-dev' environment" in done.stderr
    assert runner.outputs() == {}


@pytest.mark.parametrize("preview_id", ["", "not-a-preview", "0f0e5a3c-1d2b-4c5d-8e9f-0a1b2c3d4e5f; id", "../x"])
def test_a_malformed_preview_id_stops_before_anything_runs(runner: Any, fake_gh: Any, preview_id: str) -> None:
    done = approve(runner, fake_gh, preview_id, approved_by="carol")
    assert done.returncode == 3 and "not a preview id" in done.stderr
    assert fake_gh.calls() == []


@pytest.mark.parametrize("preview_id", ["", "0f0e5a3c-1d2b-4c5d-8e9f-0a1b2c3d4e5f --repo evil/x", "../../x"])
def test_fetching_a_malformed_preview_id_stops_before_any_download(runner: Any, fake_gh: Any, preview_id: str) -> None:
    step = next(
        s for s in runner.workflow("apply.yml")["jobs"]["apply"]["steps"] if s.get("name") == "fetch the preview"
    )
    env = runner.env("apply.yml", "apply", step, scenario(runner.base, preview_id))
    done = runner.run(step, {**env, **fake_gh.env()})
    assert done.returncode == 3 and "need a stack name and a preview id" in done.stderr
    assert fake_gh.calls() == [] and not (runner.workspace / ".state").exists()


@pytest.mark.slow
def test_a_pull_requests_preview_is_not_applied(runner: Any, fake_gh: Any) -> None:
    """Its job ran the pull request's code without the server key: nothing vouches that the engine made it."""
    preview_id = previewed_by(runner, "github:alice", sealed=False)
    done = approve(runner, fake_gh, preview_id, approved_by="carol")
    assert done.returncode == 4 and "does not match what the audit trail recorded" in done.stderr
