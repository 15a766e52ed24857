"""A private sandbox project root: the checkout's Pulumi.yaml and stack files copied, its stacks and policy pack
linked (the tests' `sandbox_settings` and the benchmarks build theirs so)."""

from __future__ import annotations

import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def sandbox_project(base: Path) -> Path:
    root = base / "project"
    root.mkdir()
    for source in [ROOT / "Pulumi.yaml", *ROOT.glob("Pulumi.*.yaml")]:
        shutil.copy(source, root / source.name)
    (root / "stacks").symlink_to(ROOT / "stacks")  # Pulumi.yaml's `main` must exist
    (root / "policies").symlink_to(ROOT / "policies")  # the policy pack, found where a checkout has it
    return root
