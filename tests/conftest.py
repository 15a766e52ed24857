"""Fixtures shared by the whole suite: isolated settings on a temporary state directory."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.mocks import ProgramRun, run_program
from engine.settings import Settings, default_project_root
from tests.project import sandbox_project

PROJECT_ROOT = default_project_root()


@pytest.fixture(autouse=True)
def _clean_datamcp_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's own DATAMCP_* or PULUMI_* variables, nor writes audit anchors into their home."""
    for name in list(os.environ):
        if name.startswith(("DATAMCP_", "PULUMI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-state"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded defaults on a private state directory (file backend, SQLite audit), using the project's tools."""
    return Settings(project_root=PROJECT_ROOT, state_dir=tmp_path / "state")


@pytest.fixture
def mock_run() -> Callable[..., ProgramRun]:
    """Run a Pulumi program under the recording mocks (no CLI, no credentials) and return what it registered.

    Invokes are answered by the simulated cloud (zones, caller identity, region, GCP client config).
    """
    return run_program


@pytest.fixture
def sandbox_settings(tmp_path: Path) -> Settings:
    """A private project root (Pulumi.yaml and the stack files copied) with a file backend and the simulated cloud."""
    return Settings(
        project_root=sandbox_project(tmp_path),
        state_dir=tmp_path / "state",
        tools_dir=PROJECT_ROOT / ".tools" / "bin",
        sandbox=True,
    )


@pytest.fixture
def engine(sandbox_settings: Settings) -> Any:
    """An Engine on the sandbox project: real CLI, simulated cloud, SQLite audit in the temp state dir."""
    from engine.operations import Engine

    return Engine(sandbox_settings)
