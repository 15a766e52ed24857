"""Synth time per stack: cold (a fresh process, imports included) and warm (the same process again).

Run on demand: `.venv/bin/python benchmarks/bench_synth.py [--repeat N]`. Targets (2-core machine): warm aws-dev under
1 s, cold under 3 s. Prints a table and, with --json, the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("aws-dev", "aws-prod", "gcp-dev", "gcp-prod")

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5, help="warm runs per stack (median reported)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    results = {stack: measure(stack, args.repeat) for stack in STACKS}
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{'stack':<10} {'cold (s)':>9} {'warm (s)':>9} {'resources':>10} {'cloud':>6}")
    for stack, r in results.items():
        print(f"{stack:<10} {r['cold_s']:>9.3f} {r['warm_s']:>9.3f} {r['resources']:>10} {r['custom_resources']:>6}")
    aws = results["aws-dev"]
    print(
        f"targets: aws-dev warm < 1 s: {'met' if aws['warm_s'] < 1 else 'MISSED'}; "
        f"cold < 3 s: {'met' if aws['cold_s'] < 3 else 'MISSED'}  ({time.perf_counter() - started:.1f} s in all)"
    )


if __name__ == "__main__":
    main()
