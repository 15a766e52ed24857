"""Throwaway SSH keys made by the real ssh-keygen, and trust lists that name them."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


@pytest.fixture(scope="session")
def ssh_keygen_path() -> Path:
    """The real ssh-keygen; its absence fails the trust tests rather than skipping them."""
    found = shutil.which("ssh-keygen")
    if found is None:
        pytest.fail("ssh-keygen is required for the trust tests: install OpenSSH (openssh-client)")
    return Path(found)


@pytest.fixture(scope="session")
def ssh_keys(tmp_path_factory: pytest.TempPathFactory, ssh_keygen_path: Path) -> dict[str, Path]:
    """Private ed25519 key files (no passphrase) for six people; `<key>.pub` is next to each."""
    directory = tmp_path_factory.mktemp("ssh-keys")
    keys = {}
    for name in ("alice", "bob", "carol", "dave", "eve", "mallory"):
        path = directory / name
        subprocess.run(
            [str(ssh_keygen_path), "-q", "-t", "ed25519", "-N", "", "-C", f"{name}@laptop", "-f", str(path)],
            check=True,
            timeout=30,
        )
        keys[name] = path
    return keys


@pytest.fixture(scope="session")
def public_keys(ssh_keys: dict[str, Path]) -> dict[str, str]:
    """Each person's public key line (`ssh-ed25519 AAAA... name@laptop`)."""
    return {name: path.with_name(path.name + ".pub").read_text().strip() for name, path in ssh_keys.items()}


@pytest.fixture
def write_trust(tmp_path: Path) -> Callable[[list[dict[str, Any]]], Path]:
    """Write an approvers.yaml (version 1) with the given entries and return its path."""

    def write(approvers: list[dict[str, Any]]) -> Path:
        path = tmp_path / "approvers.yaml"
        path.write_text(yaml.safe_dump({"version": 1, "approvers": approvers}, allow_unicode=True), encoding="utf-8")
        return path

    return write
