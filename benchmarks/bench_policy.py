"""Policy evaluation at scale: the pack on generated preview documents of 100 to 5,000 resources, `opa eval` as a
whole process each time (issue 18's target: p95 < 2 s at 1,000 on the 2-core machine; issue 23: time grows linearly
with the resources). Two graphs: aws-scale's (hardened buckets and ops-log tables, stacks/scale.py) and aws-prod's
(its real synth graph repeated). Run on demand: `.venv/bin/python benchmarks/bench_policy.py [--graph aws-scale]
[--resources 100 1000 5000] [--runs 10] [--policies DIR]`; `--policies` measures another copy of the pack (e.g. an
older commit's, from `git archive`)."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.catalog import RegistryCatalog
from engine.policy.document import document, stack_section
from engine.policy.opa import evaluate
from engine.settings import load_settings
from engine.synth import synth
from engine.toolchain import OPA_VERSION, require_tool
from stacks.scale import STORAGE_RESOURCES, TABLE_RESOURCES, shape


def synth_graph(stack: str) -> list[dict[str, Any]]:
    return [r.model_dump() for r in synth(stack, load_settings().project_root, isolated=False).resources]


def creates(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every resource a create, as in a stack's first preview."""
    return [
        {
            "urn": r["urn"],
            "type": r["type"],
            "name": r["name"],
            "op": "create",
            "old_inputs": None,
            "new_inputs": r["inputs"],
            "changed_keys": [],
            "replace_keys": [],
            "detailed_diff": {},
        }
        for r in resources
    ]


def preview_document(stack: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    entry = RegistryCatalog().entry(stack)
    return document(
        stack=stack_section(entry, "datamcp"),
        requester="bench",
        kind="update",
        changes=creates(resources),
        resources=resources,
        pending=[],
    )


def scaled(resources: int) -> dict[str, Any]:
    """aws-prod's real synth graph repeated (URNs made unique) up to `resources`; every copy a create."""
    base = [r for r in synth_graph("aws-prod") if r["custom"]]
    planned: list[dict[str, Any]] = []
    while len(planned) < resources:
        n = len(planned) // len(base)
        for r in base[: resources - len(planned)]:
            planned.append({**r, "urn": f"{r['urn']}-{n}", "name": f"{r['name']}-{n}"})
    return preview_document("aws-prod", planned)


def repeated(template: list[dict[str, Any]], old: str, new: str) -> list[dict[str, Any]]:
    """The template's resources with `old` replaced by `new` in every URN, name, dependency and input."""
    copied: list[dict[str, Any]] = json.loads(json.dumps(template).replace(old, new))
    return copied


def scale_document(resources: int) -> dict[str, Any]:
    """aws-scale's graph at `resources`, as its preview would judge it: its real synth graph at the configured size
    gives one bucket's resources (`data-0000`) and one table's (`log-0000`), repeated as stacks/scale.py's `shape`
    says with the index in every name, so URNs, dependencies and physical bucket names stay unique."""
    base = synth_graph("aws-scale")
    bucket = [r for r in base if r["name"].startswith("data-0000")]
    table = [r for r in base if r["name"].startswith("log-0000")]
    assert (len(bucket), len(table)) == (STORAGE_RESOURCES, TABLE_RESOURCES), "aws-scale's shape changed"
    buckets, tables = shape(resources)
    planned: list[dict[str, Any]] = []
    for i in range(buckets):
        planned += repeated(bucket, "data-0000", f"data-{i:04d}")
    for i in range(tables):
        planned += repeated(repeated(table, "log-0000", f"log-{i:04d}"), "log_0000", f"log_{i:04d}")
    return preview_document("aws-scale", planned)


GRAPHS: dict[str, Callable[[int], dict[str, Any]]] = {"aws-scale": scale_document, "aws-prod": scaled}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--graph", nargs="+", choices=sorted(GRAPHS), default=["aws-scale", "aws-prod"])
    parser.add_argument("--resources", nargs="+", type=int, default=[100, 1000, 5000])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--policies", type=Path, help="the pack to measure (default: the project's policies/)")
    args = parser.parse_args()
    settings = load_settings()
    opa = require_tool(settings, "opa", OPA_VERSION)
    policies = args.policies or settings.policy_dir
    for graph in args.graph:
        previous: tuple[int, float] | None = None
        for resources in args.resources:
            doc = GRAPHS[graph](resources)
            times, decision = [], {}
            for _ in range(args.runs):
                started = time.perf_counter()
                decision = evaluate(doc, policies, opa)
                times.append(time.perf_counter() - started)
            ordered = sorted(times)
            p50 = statistics.median(times)
            p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
            counts = {k: len(v) for k, v in decision.items()}
            size = len(json.dumps(doc)) // 1024
            growth = f", x{p50 / previous[1]:.1f} for x{resources / previous[0]:g} resources" if previous else ""
            print(
                f"{graph}: {len(doc['resources'])} resources ({size} KiB input), {args.runs} runs of opa eval: "
                f"p50 {p50:.3f} s, p95 {p95:.3f} s{growth}; results {counts}",
                flush=True,
            )
            previous = (resources, p50)


if __name__ == "__main__":
    main()
