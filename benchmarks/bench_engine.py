"""Engine overhead and audit store speed.

1. `Engine.preview` vs a plain Automation API preview of the same sandbox stack (the CLI and program alone), as a
   ratio of medians in one run (target <= 1.10).
2. SQLite audit append throughput (target >= 2,000 records/s) and query latency with 100,000 records.

Run on demand: `.venv/bin/python benchmarks/bench_engine.py [--runs 3] [--records 100000]`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
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


def preview_overhead(stack: str, runs: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="datamcp-bench-"))
    try:
        settings = Settings(project_root=ROOT, state_dir=work / "state", sandbox=True)
        engine = Engine(settings)
        plain = stack_handle(settings, project="datamcp", stack=stack, program=program, work_dir=ROOT)
        plain.preview()  # warm both paths once (plugin caches, stack creation)
        engine.preview(stack, user="bench")
        engine_times, plain_times, plan_times = [], [], []
        plan = work / "plan.json"
        for _ in range(runs):
            t = time.perf_counter()
            plain.preview()
            plain_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            plain.preview(plan=str(plan))
            plan_times.append(time.perf_counter() - t)
            t = time.perf_counter()
            engine.preview(stack, user="bench")
            engine_times.append(time.perf_counter() - t)
        e, p, pp = (statistics.median(x) for x in (engine_times, plain_times, plan_times))
        print(f"preview {stack}: engine {e:.2f} s, plain {p:.2f} s, plain with --save-plan {pp:.2f} s")
        print(
            f"  ratio {e / p:.2f} vs plain ({'met' if e / p <= 1.10 else 'MISSED'} <= 1.10); {e / pp:.2f} vs the "
            f"same CLI work (plan saved); {runs} runs each, medians"
        )
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
    parser.add_argument("--stack", default="gcp-dev")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    preview_overhead(args.stack, args.runs)
    audit_speed(args.records)


if __name__ == "__main__":
    main()
