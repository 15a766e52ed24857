"""Engine overhead and audit store speed.

1. `Engine.preview` vs a plain Automation API preview of the same sandbox stack doing the same CLI work (the update
   plan saved, events read), as a ratio of medians of interleaved runs in one process (target <= 1.05); the plain
   preview without a saved plan is shown too.
2. SQLite audit append throughput (target >= 2,000 records/s) and query latency with 100,000 records.

Run on demand: `.venv/bin/python benchmarks/bench_engine.py [--stacks aws-dev,gcp-dev] [--runs 5] [--records 100000]`
(`--records 0` skips the audit part).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from engine.audit import OperationRecord, now
from engine.audit.sqlite import SqliteAuditStore
from engine.operations import Engine
from engine.settings import Settings
from engine.workspace import stack_handle
from stacks.program import program

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's tests/ (not installed): its sandbox project
from tests.project import sandbox_project  # noqa: E402


def preview_overhead(stack: str, runs: int) -> float:
    work = Path(tempfile.mkdtemp(prefix="datamcp-bench-"))
    try:
        root = sandbox_project(work)
        settings = Settings(
            project_root=root,
            state_dir=work / "state",
            tools_dir=ROOT / ".tools" / "bin",
            sandbox=True,
            audit_anchor_url=(work / "anchor.json").as_uri(),
        )
        engine = Engine(settings)
        plain = stack_handle(settings, project="datamcp", stack=stack, program=program, work_dir=root)
        plan = str(work / "plan.json")
        variants = {
            "plain": lambda: plain.preview(plan=plan, diff=False, on_event=lambda _: None),
            "plain without a saved plan": plain.preview,
            "engine": lambda: engine.preview(stack, user="bench"),
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for fn in variants.values():
            fn()  # warm every path once (plugin caches, stack creation)
        for _ in range(runs):
            for name, fn in variants.items():
                t = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t)
        e, p, bare = (statistics.median(times[k]) for k in ("engine", "plain", "plain without a saved plan"))
        ratio = e / p
        print(
            f"preview {stack}: engine {e:.2f} s, plain (plan saved) {p:.2f} s -> {ratio:.3f} "
            f"({'met' if ratio <= 1.05 else 'MISSED'} <= 1.05); plain without a saved plan {bare:.2f} s -> "
            f"{e / bare:.3f}; {runs} interleaved runs each, medians"
        )
        return ratio
    finally:
        shutil.rmtree(work, ignore_errors=True)


def audit_speed(records: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="datamcp-bench-"))
    try:
        store = SqliteAuditStore(work / "audit.db")
        n = 5000
        t = time.perf_counter()
        for i in range(n):
            store.append(
                OperationRecord(
                    id=f"op-{i}",
                    user=f"user-{i % 7}",
                    tool="preview",
                    stack=f"s-{i % 4}",
                    status="started",
                    start_ts=now(),
                )
            )
        rate = n / (time.perf_counter() - t)
        print(f"sqlite append: {rate:,.0f} records/s ({'met' if rate >= 2000 else 'MISSED'} >= 2,000)")
        # fill to `records` with direct batched inserts through the store's connection, then time queries
        t = time.perf_counter()
        for i in range(n, records):
            store.append(
                OperationRecord(
                    id=f"op-{i}",
                    user=f"user-{i % 7}",
                    tool="up",
                    stack=f"s-{i % 4}",
                    status="succeeded" if i % 3 else "failed",
                    start_ts=now(),
                )
            )
        fill = time.perf_counter() - t
        for label, fn in (
            ("query stack=s-1 limit 50", lambda: store.query(stack="s-1", limit=50)),
            ("query user=user-3 status=failed limit 50", lambda: store.query(user="user-3", status="failed", limit=50)),
            ("query all, page 2 (cursor)", lambda: store.query(limit=50, cursor=store.query(limit=50).next_cursor)),
            ("get one operation", lambda: store.get(f"op-{records // 2}")),
        ):
            times = []
            for _ in range(20):
                t = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t)
            print(f"  {label:<45} {statistics.median(times) * 1000:7.2f} ms (median of 20, {records:,} records)")
        t = time.perf_counter()
        report = store.verify()
        print(
            f"  verify the whole chain: {time.perf_counter() - t:.2f} s, ok={report.ok} "
            f"(filled {records - n:,} more in {fill:.1f} s)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stacks", default="aws-dev,aws-prod,gcp-dev,gcp-prod")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    for stack in args.stacks.split(","):
        preview_overhead(stack, args.runs)
    if args.records:
        audit_speed(args.records)


if __name__ == "__main__":
    main()
