"""Policy evaluation at scale: the pack on a generated 1,000-resource preview document, `opa eval` as a whole process
each time (issue 18's target: p95 < 2 s on the 2-core machine). Run on demand:
`.venv/bin/python benchmarks/bench_policy.py [--resources 1000] [--runs 20]`."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

from engine.catalog import RegistryCatalog
from engine.policy.document import document, stack_section
from engine.policy.opa import evaluate
from engine.settings import load_settings
from engine.synth import synth
from engine.toolchain import OPA_VERSION, require_tool


def scaled(resources: int) -> dict[str, Any]:
    """aws-prod's real synth graph repeated (URNs made unique) up to `resources`; every copy a create."""
    settings = load_settings()
    base = [r.model_dump() for r in synth("aws-prod", settings.project_root, isolated=False).resources if r.custom]
    planned: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    while len(planned) < resources:
        n = len(planned) // len(base)
        for r in base[: resources - len(planned)]:
            copy = {**r, "urn": f"{r['urn']}-{n}", "name": f"{r['name']}-{n}"}
            planned.append(copy)
            changes.append(
                {
                    "urn": copy["urn"],
                    "type": r["type"],
                    "name": copy["name"],
                    "op": "create",
                    "old_inputs": None,
                    "new_inputs": r["inputs"],
                    "changed_keys": [],
                    "replace_keys": [],
                    "detailed_diff": {},
                }
            )
    entry = RegistryCatalog().entry("aws-prod")
    return document(
        stack=stack_section(entry, "datamcp"),
        requester="bench",
        kind="update",
        changes=changes,
        resources=planned,
        pending=[],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resources", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    settings = load_settings()
    opa = require_tool(settings, "opa", OPA_VERSION)
    doc = scaled(args.resources)
    times, decision = [], {}
    for _ in range(args.runs):
        started = time.perf_counter()
        decision = evaluate(doc, settings.policy_dir, opa)
        times.append(time.perf_counter() - started)
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    counts = {k: len(v) for k, v in decision.items()}
    size = len(json.dumps(doc)) // 1024
    print(
        f"{args.resources} resources ({size} KiB input), {args.runs} runs of opa eval: "
        f"p50 {statistics.median(times):.3f} s, p95 {p95:.3f} s; results {counts}"
    )


if __name__ == "__main__":
    main()
