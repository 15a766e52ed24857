"""Stopping the HTTP server with a real SIGTERM leaves no synth worker behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.client.auth import BearerAuth

from engine.settings import Settings, default_project_root

pytestmark = pytest.mark.slow
ROOT = default_project_root()


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...), or None once the process is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, found by scanning the parent pid of each process in /proc."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := stat_fields(int(entry.name))) is not None:
            parents[int(entry.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running_pid(pid: int) -> bool:
    """Still there and not a zombie (an exited process nobody reaped yet holds no resources)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.fixture
def server(
    tmp_path: Path, start_server: Callable[..., Any]
) -> Iterator[tuple[subprocess.Popen[bytes], str, Path, set[int]]]:
    state = tmp_path / "state"
    running = start_server(Settings(project_root=ROOT, state_dir=state, sandbox=True), "--dev-tokens")
    proc = running.proc
    children: set[int] = set()  # the test adds the server's children it saw
    try:
        yield proc, running.url, state, children
    finally:
        children |= descendants(proc.pid)
        proc.kill()
        proc.wait(30)
        for pid in children:  # never leave a worker behind, even when the test failed
            if running_pid(pid):
                os.kill(pid, signal.SIGKILL)


def call_synth(url: str, token: str) -> int:
    async def call() -> int:
        async with Client(url + "/mcp", auth=BearerAuth(token), timeout=180) as client:
            result = await client.call_tool("synth", {"stack": "aws-dev", "limit": 1})
            return int(result.structured_content["resource_count"])  # type: ignore[index]

    return asyncio.run(call())


def test_sigterm_stops_the_server_and_its_synth_workers(
    server: tuple[subprocess.Popen[bytes], str, Path, set[int]],
) -> None:
    proc, url, state, children = server
    tokens = json.loads((state / "mcp-dev-tokens.plain.json").read_text())
    assert call_synth(url, next(iter(tokens.values()))) > 0
    children |= descendants(proc.pid)
    assert any("spawn_main" in cmdline(pid) for pid in children), "synth ran in a worker process"

    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        raise AssertionError("the server did not exit within 30 s of SIGTERM") from None
    deadline = time.monotonic() + 10
    while any(running_pid(pid) for pid in children):
        assert time.monotonic() < deadline, "a synth worker outlived the server within 10 s"
        time.sleep(0.1)
