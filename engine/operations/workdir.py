"""The folder the Pulumi CLI works in: a private copy of the project's `Pulumi.yaml` and stack files under the state
dir, so the CLI never edits a tracked file (it writes `encryptionsalt`, `encryptedkey` and `secretsprovider` into a
stack file that lacks them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from engine.store_files import ensure_dir, write_atomic

CLI_OWNED_KEYS = ("encryptionsalt", "encryptedkey", "secretsprovider")


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text()) if path.is_file() else None
    return data if isinstance(data, dict) else {}


def sync_workdir(project_root: Path, workdir: Path, stack: str) -> Path:
    """Copy the checkout's project and stack files into `workdir` (the checkout's values win), keeping what the
    CLI wrote there itself; return `workdir`."""
    ensure_dir(workdir, 0o700)
    project = _load(project_root / "Pulumi.yaml")
    project.pop("main", None)  # inline programs have no entry point on disk
    _write(workdir / "Pulumi.yaml", project)
    checkout = _load(project_root / f"Pulumi.{stack}.yaml")
    private = _load(workdir / f"Pulumi.{stack}.yaml")
    for key in CLI_OWNED_KEYS:
        if key not in checkout and key in private:
            checkout[key] = private[key]
    _write(workdir / f"Pulumi.{stack}.yaml", checkout)
    return workdir


def _write(path: Path, data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, sort_keys=False)
    if not path.is_file() or path.read_text() != text:
        write_atomic(path, text, mode=0o600)


def link_charts(workdir: Path, charts: Path) -> None:
    """`workdir/charts` points at the program's charts (a local Helm chart is named by its relative path)."""
    link = workdir / "charts"
    if link.is_symlink() and link.readlink() == charts:
        return
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(charts, target_is_directory=True)
