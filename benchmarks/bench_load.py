"""Many agents at once against one HTTP server (the official MCP client, loopback only): throughput, p50/p99 per
tool, errors and the server's memory. Run on demand:
`.venv/bin/python benchmarks/bench_load.py [--sessions 10] [--calls 30] [--previews 2]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "load-bench-token-0123456789"
READS: list[tuple[str, dict[str, Any]]] = [
    ("list_stacks", {}),
    ("get_outputs", {"stack": "gcp-dev"}),
    ("list_operations", {"limit": 10}),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def start_server(state: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAMCP_")}
    env |= {
        "DATAMCP_STATE_DIR": str(state),
        "DATAMCP_MCP_TOKENS": json.dumps({TOKEN: {"principal": "bench", "roles": ["operator"]}}),
        "DATAMCP_MCP_READ_RATE_LIMIT_PER_MINUTE": "10000",
        "DATAMCP_MCP_RATE_LIMIT_PER_MINUTE": "10000",
        "XDG_STATE_HOME": str(state / "xdg"),
    }
    command = [sys.executable, "-m", "mcp_server", "--transport", "http", "--port", str(port)]
    server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
            return server
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise SystemExit("the server did not start")


def nothing() -> None:
    """The default hook between a session's set-up and its timed calls."""


async def session(
    url: str,
    calls: int,
    latencies: dict[str, list[float]],
    errors: list[str],
    ready: Callable[[], None] = nothing,
    think: float = 0.0,
) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300)
    async with http, streamable_http_client(url, http_client=http) as streams, ClientSession(*streams[:2]) as client:
        await client.initialize()
        await client.list_tools()  # a session's set-up, as every agent does it first; not timed
        for tool, args in READS:  # the client's one-off costs (its output-schema validators), not timed
            await client.call_tool(tool, args)
        ready()
        for i in range(calls):
            tool, args = READS[i % len(READS)]
            await asyncio.sleep(think)
            started = time.perf_counter()
            result = await client.call_tool(tool, args)
            latencies.setdefault(tool, []).append(time.perf_counter() - started)
            if result.is_error:
                errors.append(f"{tool}: {result.content[0].text[:100]}")  # type: ignore[union-attr]


async def previews(
    url: str, count: int, latencies: dict[str, list[float]], errors: list[str], ready: Callable[[], None] = nothing
) -> None:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=300)
    async with http, streamable_http_client(url, http_client=http) as streams, ClientSession(*streams[:2]) as client:
        await client.initialize()
        ready()
        for _ in range(count):
            started = time.perf_counter()
            result = await client.call_tool("preview", {"stack": "aws-dev"})
            latencies.setdefault("preview", []).append(time.perf_counter() - started)
            if result.is_error:
                errors.append(f"preview: {result.content[0].text[:100]}")  # type: ignore[union-attr]


def table(latencies: dict[str, list[float]], wall: float, errors: list[str]) -> str:
    rows = ["| tool | calls | p50 ms | p99 ms |", "| --- | --- | --- | --- |"]
    for tool, times in sorted(latencies.items()):
        ordered = sorted(times)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        rows.append(f"| {tool} | {len(times)} | {statistics.median(times) * 1000:.1f} | {p99 * 1000:.1f} |")
    reads = sum(len(v) for k, v in latencies.items() if k != "preview")
    rows.append(f"\nreads: {reads} in {wall:.1f} s ({reads / wall:.0f}/s); errors: {len(errors)} {errors[:3]}")
    return "\n".join(rows)


START: Any = None  # each agent process's barrier: timing starts once every agent has connected


def keep_barrier(barrier: Any) -> None:
    global START  # a pool initializer hands the barrier to its workers this way
    START = barrier


def agent(job: tuple[str, str, int, float]) -> tuple[dict[str, list[float]], list[str]]:
    """One agent in its own process, as agents are: a session of reads, or previews; timed calls start together."""
    kind, url, count, think = job
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    if kind == "reads":
        asyncio.run(session(url, count, latencies, errors, ready=START.wait, think=think))
    else:
        asyncio.run(previews(url, count, latencies, errors, ready=START.wait))
    return latencies, errors


def run(args: argparse.Namespace, url: str) -> tuple[dict[str, list[float]], float, list[str]]:
    """Every agent in a process of its own (the client's own CPU is spread as real agents' is); the wall clock runs
    from the moment all of them are connected."""
    think = args.think_ms / 1000
    jobs = [("reads", url, args.calls, think)] * args.sessions + [("previews", url, 1, 0.0)] * args.previews
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs) + 1)
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    with context.Pool(len(jobs), initializer=keep_barrier, initargs=(barrier,)) as pool:
        results = pool.map_async(agent, jobs)
        barrier.wait(timeout=120)
        started = time.perf_counter()
        for times, failures in results.get(timeout=600):
            for tool, values in times.items():
                latencies.setdefault(tool, []).extend(values)
            errors += failures
    return latencies, time.perf_counter() - started, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--calls", type=int, default=30)
    parser.add_argument("--previews", type=int, default=2)
    parser.add_argument("--think-ms", type=float, default=0.0, help="pause before each call (0: back to back)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(Path(tmp) / "state", port)
        try:
            before = rss_mb(server.pid)
            latencies, wall, errors = run(args, f"http://127.0.0.1:{port}/mcp")
            after = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)
    print(
        f"{args.sessions} agents x {args.calls} reads ({args.think_ms:.0f} ms apart), {args.previews} previews beside "
        "them, a process each"
    )
    print(table(latencies, wall, errors))
    print(f"server RSS: {before:.0f} MB at start, {after:.0f} MB after the load")


if __name__ == "__main__":
    main()
