"""Fixtures for stack tests: synth results per stack (in-process, cached per session) and config-file editing."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.results import SynthResult
from engine.synth import synth

ROOT = Path(__file__).resolve().parents[2]
_CACHE: dict[str, SynthResult] = {}


@pytest.fixture
def synthed() -> Callable[[str], SynthResult]:
    def get(stack: str) -> SynthResult:
        if stack not in _CACHE:
            _CACHE[stack] = synth(stack, ROOT, isolated=False)
        return _CACHE[stack]

    return get


@pytest.fixture
def edited_root(tmp_path: Path) -> Callable[[str, Callable[[dict[str, Any]], None]], Path]:
    """A project root whose Pulumi.<stack>.yaml is the repo's, changed by `edit(config_dict)`."""

    def make(stack: str, edit: Callable[[dict[str, Any]], None]) -> Path:
        shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
        doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
        edit(doc["config"])
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(doc))
        return tmp_path

    return make
