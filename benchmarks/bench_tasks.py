"""MCP tasks through the official SDK client over stdio: how long a task handle takes to come back (issue 20's
target: < 1 s) and a tasks/get, while the previews the tasks started run. Run on demand:
`.venv/bin/python benchmarks/bench_tasks.py [--tasks 10]` (a throwaway state dir, the simulated cloud)."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.mcpserver import task_client as tasks  # noqa: E402 - the tests' client of the extension
from tests.project import sandbox_project  # noqa: E402

STACKS = ("aws-dev", "aws-prod", "gcp-dev", "gcp-prod")


def ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"


async def run(count: int, base: Path) -> None:
    env = {
        **os.environ,
        "DATAMCP_PROJECT_ROOT": str(sandbox_project(base)),
        "DATAMCP_STATE_DIR": str(base / "state"),
        "DATAMCP_TOOLS_DIR": str(ROOT / ".tools" / "bin"),
        "DATAMCP_SANDBOX": "1",
        "DATAMCP_MCP_RATE_LIMIT_PER_MINUTE": "1000",
    }
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env, cwd=str(ROOT))
    async with stdio_client(server) as (read, write), ClientSession(read, write, **tasks.session_options()) as s:
        await s.discover()
        handles, gets, ids = [], [], []
        started = time.monotonic()
        for n in range(count):
            t0 = time.monotonic()
            created = await tasks.start(s, "preview", {"stack": STACKS[n % len(STACKS)]})
            handles.append(time.monotonic() - t0)
            assert isinstance(created, tasks.Created)
            ids.append(created.task_id)
            t0 = time.monotonic()
            await tasks.get(s, created.task_id)
            gets.append(time.monotonic() - t0)
        finished = [await tasks.wait(s, task_id, timeout=1800) for task_id in ids]
        wall = time.monotonic() - started
    print(f"{count} preview tasks over stdio (2-core machine)")
    print(f"  handle returned: {ms(handles)}")
    print(f"  tasks/get while running: {ms(gets)}")
    print(f"  all {sum(t.status == 'completed' for t in finished)} completed in {wall:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-tasks-") as base:
        asyncio.run(run(args.tasks, Path(base)))


if __name__ == "__main__":
    main()
