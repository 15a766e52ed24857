"""A `.pyc` planted in the checkout never runs inside the engine: bytecode comes from a private per-user cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib._bootstrap_external import _code_to_timestamp_pyc  # type: ignore[attr-defined]
from pathlib import Path

import pytest

from engine.bytecode import UnsafeBytecodeCache, is_private, use_private_prefix

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the program's sources with a poisoned bytecode file for components/naming.py."""
    copy = tmp_path / "checkout"
    for folder in ("engine", "components", "stacks"):
        shutil.copytree(ROOT / folder, copy / folder, ignore=shutil.ignore_patterns("__pycache__"))
    source = copy / "components" / "naming.py"
    marker = tmp_path / "poisoned"
    code = compile(source.read_text() + f"\nopen({str(marker)!r}, 'w').close()\n", str(source), "exec")
    stat = source.stat()
    pyc = (
        source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
    )  # not this process's prefix
    pyc.parent.mkdir(parents=True, exist_ok=True)
    pyc.write_bytes(_code_to_timestamp_pyc(code, stat.st_mtime, stat.st_size))
    return copy


def run(checkout: Path, code: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"}
    env["XDG_CACHE_HOME"] = str(checkout.parent / "cache")
    subprocess.run([sys.executable, "-c", code], cwd=checkout, env=env, check=True, timeout=120)


def test_the_planted_bytecode_runs_when_nothing_guards_it(checkout: Path) -> None:
    run(checkout, "import components.naming")
    assert (checkout.parent / "poisoned").exists()


def test_the_engine_never_runs_planted_bytecode(checkout: Path) -> None:
    run(checkout, "import engine, components.naming")
    assert not (checkout.parent / "poisoned").exists()
    assert list((checkout.parent / "cache" / "datamcp" / "pycache").rglob("naming*.pyc"))


def test_a_configured_prefix_others_can_write_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(shared))
    monkeypatch.setattr(sys, "pycache_prefix", sys.pycache_prefix)
    assert not is_private(shared)
    with pytest.raises(UnsafeBytecodeCache, match="not private"):
        use_private_prefix()


def test_a_default_prefix_below_a_folder_others_can_swap_gives_way_to_a_fresh_private_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    swappable = tmp_path / "agent-owned"
    swappable.mkdir()
    swappable.chmod(0o777)  # another user could rename our cache folder away and put theirs in its place
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(swappable / "cache"))
    monkeypatch.setattr(sys, "pycache_prefix", sys.pycache_prefix)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    chosen = use_private_prefix()
    assert not str(chosen).startswith(str(swappable)) and is_private(chosen)
    assert sys.pycache_prefix == str(chosen)
