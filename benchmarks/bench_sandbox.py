"""Sandbox timings for aws-dev: preview, up, a no-change preview and destroy through the real CLI, and the share of
each spent inside the simulated provider's RPC handlers.

Run on demand: `.venv/bin/python benchmarks/bench_sandbox.py [--stack aws-dev]`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from engine.sandbox.provider import PROFILE_ENV
from engine.settings import Settings
from engine.workspace import stack_handle
from stacks.program import program

ROOT = Path(__file__).resolve().parents[1]


def provider_seconds(profile: Path) -> tuple[float, dict[str, float]]:
    by_method: dict[str, float] = defaultdict(float)
    for f in profile.glob("*.txt"):
        for line in f.read_text().splitlines():
            method, seconds = line.split()
            by_method[method] += float(seconds)
    return sum(by_method.values()), dict(by_method)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack", default="aws-dev")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="datamcp-bench-"))
    try:
        settings = Settings(project_root=ROOT, state_dir=work / "state", sandbox=True)
        stack = stack_handle(settings, project="datamcp", stack=args.stack, program=program, work_dir=ROOT)
        print(f"{'step':<18} {'wall (s)':>9} {'in simulator (s)':>17} {'share':>6}")
        for step, run in (
            ("preview", lambda: stack.preview()),
            ("up", lambda: stack.up(show_secrets=False)),
            ("preview (no-op)", lambda: stack.preview()),
            ("destroy", lambda: stack.destroy(show_secrets=False)),
        ):
            profile = work / "profile" / step.replace(" ", "_")
            stack.workspace.env_vars[PROFILE_ENV] = str(profile)
            start = time.perf_counter()
            run()
            wall = time.perf_counter() - start
            inside, _ = provider_seconds(profile)
            print(f"{step:<18} {wall:>9.2f} {inside:>17.3f} {inside / wall:>6.1%}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
