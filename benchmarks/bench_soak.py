"""A soak: mixed reads and previews against one HTTP server for a bounded time (loopback only), sampling the server's
memory, open file descriptors and child processes, to show they stay bounded and return near the baseline.
Run on demand: `.venv/bin/python benchmarks/bench_soak.py [--minutes 10] [--sessions 4]`."""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench_load import free_port, previews, rss_mb, session, start_server


def fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def children(pid: int) -> int:
    """Processes whose parent is the server (synth workers, CLI runs)."""
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    count += 1
            except (OSError, IndexError):
                continue
    return count


async def soak(url: str, pid: int, args: argparse.Namespace) -> list[tuple[float, float, int, int]]:
    samples: list[tuple[float, float, int, int]] = []
    latencies: dict[str, list[float]] = {}
    errors: list[str] = []
    deadline = time.monotonic() + args.minutes * 60
    started = time.monotonic()
    while time.monotonic() < deadline:
        jobs = [session(url, 30, latencies, errors) for _ in range(args.sessions)] + [
            previews(url, 1, latencies, errors)
        ]
        await asyncio.gather(*jobs)
        samples.append((time.monotonic() - started, rss_mb(pid), fds(pid), children(pid)))
    print(f"calls: {sum(len(v) for v in latencies.values())}, errors: {len(errors)} {errors[:3]}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--sessions", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        server = start_server(Path(tmp) / "state", port)
        try:
            baseline = (rss_mb(server.pid), fds(server.pid), children(server.pid))
            samples = asyncio.run(soak(f"http://127.0.0.1:{port}/mcp", server.pid, args))
            time.sleep(5)
            idle = (rss_mb(server.pid), fds(server.pid), children(server.pid))
        finally:
            server.terminate()
            server.wait(30)
    peak = max(s[1] for s in samples)
    print(f"baseline: RSS {baseline[0]:.0f} MB, {baseline[1]} fds, {baseline[2]} children")
    print(
        f"peak RSS {peak:.0f} MB over {len(samples)} rounds; last round: {samples[-1][1]:.0f} MB, {samples[-1][2]} fds"
    )
    print(f"idle after: RSS {idle[0]:.0f} MB, {idle[1]} fds, {idle[2]} children")


if __name__ == "__main__":
    main()
