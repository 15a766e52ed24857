"""Properties of the repository itself: pins, ignores, workflows."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest

from engine.toolchain import PULUMI_VERSION

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["lock.txt", "bootstrap.txt"])
def test_pin_files_carry_versions_and_hashes_only(name: str) -> None:
    text = (ROOT / "requirements" / name).read_text()
    assert "://" not in text and "index-url" not in text and "find-links" not in text
    requirements = [line for line in text.splitlines() if line and not line.startswith((" ", "#"))]
    assert requirements
    for line in requirements:
        assert re.match(r"^[A-Za-z0-9_.\-\[\],]+==[^ ]+ \\$", line), f"not an exact pin with hashes: {line}"


def test_sdk_and_cli_versions_agree() -> None:
    lock = (ROOT / "requirements" / "lock.txt").read_text()
    assert f"\npulumi=={PULUMI_VERSION} " in lock
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert f"pulumi=={PULUMI_VERSION}" in pyproject["project"]["dependencies"]
    build = (ROOT / "scripts" / "build-go-tools.sh").read_text()
    assert f"version.Version=v{PULUMI_VERSION}" in build


@pytest.mark.parametrize(
    "path",
    [
        ".venv/x",
        ".tools/bin/pulumi",
        "scripts/gotools/pulumi-kubernetes/cmd/pulumi-resource-kubernetes/schema.json",
        ".state/backend/x",
        "secrets/key.json",
        "prod.tfvars",
        "gcp-credentials.json",
        "uv.lock",
        ".env",
    ],
)
def test_gitignore_covers_local_and_secret_files(path: str) -> None:
    result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, check=False)
    assert result.returncode == 0, f"{path} is not ignored"


@pytest.mark.slow
def test_workflows_pass_actionlint() -> None:
    workflows = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.yml"))
    assert workflows
    result = subprocess.run(
        [str(ROOT / ".tools" / "bin" / "actionlint"), *workflows], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
