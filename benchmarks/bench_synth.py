"""Synth time per stack: cold (a fresh process, imports included) and warm (the same process again); and start-up:
`datamcp synth aws-dev --format json` as a whole process, as an operator runs it.

Run on demand: `.venv/bin/python benchmarks/bench_synth.py [--repeat N] [--startup-runs N] [--startup-only]`.
Targets (2-core machine): warm aws-dev under 1 s, cold under 3 s; the whole `datamcp synth aws-dev` process under
1.5 s with PYTHONDONTWRITEBYTECODE=1 (issue 23; bytecode from the private cache the bootstrap warms). Prints a table
and, with --json, the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("aws-dev", "aws-prod", "gcp-dev", "gcp-prod")
STARTUP_ARGV = ("synth", "aws-dev", "--format", "json")
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_kubernetes")

CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from engine.synth import synth
root = Path(sys.argv[1])
r = synth(sys.argv[2], root, isolated=False)
cold = time.perf_counter() - t0
warm = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter()
    synth(sys.argv[2], root, isolated=False)
    warm.append(time.perf_counter() - t)
print(json.dumps({"cold": cold, "warm": warm, "resources": r.resource_count, "custom": r.custom_resource_count}))
"""


def measure(stack: str, repeat: int) -> dict[str, float | int]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), stack, str(repeat)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return {
        "cold_s": round(data["cold"], 3),
        "warm_s": round(statistics.median(data["warm"]), 3),
        "resources": data["resources"],
        "custom_resources": data["custom"],
    }


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def startup(runs: int) -> dict[str, Any]:
    """`datamcp synth aws-dev --format json` run `runs` times, one after another, each a whole process (start,
    imports, synth, output, interpreter exit) with PYTHONDONTWRITEBYTECODE=1; then once more under `-X importtime`
    for the cloud SDKs it imported. One untimed run first, so that this checkout's own bytecode is cached."""
    cli = Path(sys.executable).with_name("datamcp")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}

    def run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(argv, capture_output=True, text=True, check=True, cwd=ROOT, env=env)

    run(str(cli), *STARTUP_ARGV)
    wall, cpu = [], []
    for _ in range(runs):
        started, cpu_before = time.perf_counter(), _children_cpu()
        run(str(cli), *STARTUP_ARGV)
        wall.append(time.perf_counter() - started)
        cpu.append(_children_cpu() - cpu_before)
    imported = run(sys.executable, "-X", "importtime", "-m", "engine.cli", *STARTUP_ARGV).stderr
    sdks = [sdk for sdk in CLOUD_SDKS if re.search(rf"\|\s*{sdk}$", imported, re.MULTILINE)]
    return {
        "runs": runs,
        "wall_median_s": round(statistics.median(wall), 3),
        "wall_min_s": round(min(wall), 3),
        "wall_max_s": round(max(wall), 3),
        "cpu_median_s": round(statistics.median(cpu), 3),
        "cloud_sdks_imported": sdks,
        "pulumi_gcp_imported": "pulumi_gcp" in sdks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per stack (median reported)")
    parser.add_argument("--startup-runs", type=int, default=7, help="whole-process runs of `datamcp synth aws-dev`")
    parser.add_argument("--startup-only", action="store_true", help="measure start-up only, not each stack's synth")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    results: dict[str, Any] = {} if args.startup_only else {stack: measure(stack, args.repeat) for stack in STACKS}
    start_up = startup(args.startup_runs)
    if args.json:
        print(json.dumps({**results, "startup": start_up}, indent=2))
        return
    if results:
        print(f"{'stack':<10} {'cold (s)':>9} {'warm (s)':>9} {'resources':>10} {'cloud':>6}")
        for stack, r in results.items():
            print(
                f"{stack:<10} {r['cold_s']:>9.3f} {r['warm_s']:>9.3f} {r['resources']:>10} {r['custom_resources']:>6}"
            )
        aws = results["aws-dev"]
        print(
            f"targets: aws-dev warm < 1 s: {'met' if aws['warm_s'] < 1 else 'MISSED'}; "
            f"cold < 3 s: {'met' if aws['cold_s'] < 3 else 'MISSED'}"
        )
    s = start_up
    print(
        f"start-up, `datamcp {' '.join(STARTUP_ARGV)}` (PYTHONDONTWRITEBYTECODE=1), {s['runs']} runs: wall median "
        f"{s['wall_median_s']:.2f} s (min {s['wall_min_s']:.2f}, max {s['wall_max_s']:.2f}), CPU median "
        f"{s['cpu_median_s']:.2f} s; cloud SDKs imported: {', '.join(s['cloud_sdks_imported']) or 'none'}"
    )
    print(
        f"target: whole process < 1.5 s: {'met' if s['wall_median_s'] < 1.5 else 'MISSED'}; pulumi_gcp not imported: "
        f"{'met' if not s['pulumi_gcp_imported'] else 'MISSED'}  ({time.perf_counter() - started:.1f} s in all)"
    )


if __name__ == "__main__":
    main()
