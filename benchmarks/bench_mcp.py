"""Per-call overhead of the MCP layer over a direct engine call, in-memory and over HTTP, for list_stacks and
preview. Run on demand: `.venv/bin/python benchmarks/bench_mcp.py [--calls 50] [--previews 3]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
from fastmcp import Client
from fastmcp.client.auth import BearerAuth

import mcp_server
from engine.operations import Engine
from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-0123456789"


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


async def timed(client: Client, tool: str, args: dict[str, object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        await client.call_tool(tool, args)
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--previews", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="datamcp-bench-"))
    port = None
    proc = None
    try:
        settings = Settings(project_root=ROOT, state_dir=work / "state", sandbox=True)
        engine = Engine(settings)
        direct_list = []
        for _ in range(args.calls):
            t = time.perf_counter()
            engine.list_stacks()
            direct_list.append(time.perf_counter() - t)
        engine.preview("gcp-dev", user="bench")
        direct_preview = []
        for _ in range(args.previews):
            t = time.perf_counter()
            engine.preview("gcp-dev", user="bench")
            direct_preview.append(time.perf_counter() - t)

        async def in_memory() -> tuple[list[float], list[float]]:
            async with Client(mcp_server.create_server(settings, engine=engine)) as c:
                return (
                    await timed(c, "list_stacks", {}, args.calls),
                    await timed(c, "preview", {"stack": "gcp-dev"}, args.previews),
                )

        mem_list, mem_preview = asyncio.run(in_memory())

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            **os.environ,
            "DATAMCP_PROJECT_ROOT": str(ROOT),
            "DATAMCP_STATE_DIR": str(work / "state"),
            "DATAMCP_SANDBOX": "1",
            "DATAMCP_MCP_TOKENS": json.dumps({TOKEN: {"principal": "b", "roles": ["viewer"]}}),
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcp_server", "--transport", "http", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for _ in range(100):
            try:
                httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx2.HTTPError:
                time.sleep(0.1)

        async def over_http() -> tuple[list[float], list[float]]:
            async with Client(f"http://127.0.0.1:{port}/mcp", auth=BearerAuth(TOKEN)) as c:
                await c.call_tool("preview", {"stack": "gcp-dev"})
                return (
                    await timed(c, "list_stacks", {}, args.calls),
                    await timed(c, "preview", {"stack": "gcp-dev"}, args.previews),
                )

        http_list, http_preview = asyncio.run(over_http())
        print(f"{'call':<12} {'direct':>10} {'in-memory':>10} {'HTTP':>10}   (medians, ms)")
        for name, d, m, h in (
            ("list_stacks", direct_list, mem_list, http_list),
            ("preview", direct_preview, mem_preview, http_preview),
        ):
            print(
                f"{name:<12} {median_ms(d):>10.2f} {median_ms(m):>10.2f} {median_ms(h):>10.2f}   "
                f"overhead: in-memory {median_ms(m) - median_ms(d):+.2f}, HTTP {median_ms(h) - median_ms(d):+.2f}"
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(20)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
