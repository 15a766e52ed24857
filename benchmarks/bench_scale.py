"""The engine at scale: the aws-scale stack (stacks/scale.py) at N resources in the sandbox's simulated cloud.

For each N (a fresh process each, so peak memory is per N): synth as a whole CLI process; preview, up, a no-op
preview, a refresh (preview only) and destroy through `Engine`, each beside the plain Automation API doing the same
CLI work in the same run (a saved plan for previews and up, the CLI's events read; alternating runs, medians); the
simulated provider's share of the engine's preview and up; the default MCP preview result's size over an in-memory
MCP client; peak RSS of the engine process and of its largest child (the pulumi CLI or a provider).

Above `--checkpoints-up-to` resources (default 1,000) every up and destroy, the plain API's and the engine's alike,
runs with `PULUMI_SKIP_CHECKPOINTS=true`: a self-managed backend otherwise rewrites the whole state file after each
step, so the CLI's own time grows with N squared (73 s for an up at 1,000 resources here; an hour at 5,000). The
engine never sets it; the ratio compares the same CLI work either way.

Run on demand: `.venv/bin/python benchmarks/bench_scale.py [--sizes 100,1000,5000] [--runs 3] [--json]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STACK = "aws-scale"
OVERHEAD_TARGET = 1.05
MEMORY_TARGET_MB = 1024
SIMULATOR_TARGET = 0.10


class PeakMemory:
    """Samples the resident memory of this process and its descendants (the pulumi CLI, providers, OPA) every
    0.2 s: the peak of this process, of the largest descendant and of the whole tree at one moment, in MB."""

    def __init__(self) -> None:
        self.peaks = {"engine": 0.0, "largest_child": 0.0, "tree": 0.0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            me, children = os.getpid(), []
            parents = _parents()
            for pid in parents:
                ancestor = parents.get(pid)
                while ancestor and ancestor != me:
                    ancestor = parents.get(ancestor)
                if ancestor == me:
                    children.append(_rss_mb(pid))
            own = _rss_mb(me)
            for key, value in (("engine", own), ("largest_child", max(children, default=0.0))):
                self.peaks[key] = max(self.peaks[key], value)
            self.peaks["tree"] = max(self.peaks["tree"], own + sum(children))


def _parents() -> dict[int, int]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return found


def _rss_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def median_seconds(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alternate(pairs: dict[str, Callable[[], Any]], runs: int) -> dict[str, float]:
    """Each variant `runs` times, interleaved so that the machine's load falls on all of them alike; medians."""
    times: dict[str, list[float]] = {name: [] for name in pairs}
    for _ in range(runs):
        for name, fn in pairs.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(t) for name, t in times.items()}


class Scale:
    """One N: a private sandbox project and state, an Engine and a plain Automation API handle on it."""

    def __init__(self, work: Path, resources: int) -> None:
        from engine.operations import Engine
        from engine.settings import Settings
        from engine.workspace import stack_handle
        from stacks.program import program
        from tests.project import sandbox_project

        self.work = work
        self.root = sandbox_project(work)
        config = self.root / f"Pulumi.{STACK}.yaml"
        config.write_text(config.read_text().replace("resources: 100", f"resources: {resources}"))
        self.settings = Settings(
            project_root=self.root,
            state_dir=work / "state",
            tools_dir=ROOT / ".tools" / "bin",
            sandbox=True,
            audit_anchor_url=(work / "anchor.json").as_uri(),
        )
        self.engine = Engine(self.settings)
        self.plain = stack_handle(self.settings, project="datamcp", stack=STACK, program=program, work_dir=self.root)
        self.plan = str(work / "plain-plan.json")

    def plain_preview(self) -> Any:
        return self.plain.preview(plan=self.plan, diff=False, on_event=lambda _: None)

    def engine_preview(self) -> Any:
        return self.engine.preview(STACK, user="bench")

    def engine_apply(self, kind: str) -> Callable[[], Any]:
        """Preview (untimed), approve (two people: the policy asks for two on a change this large), then the timed
        part: the apply itself."""
        preview = self.engine.preview(STACK, user="bench", kind=kind)
        approvals = [self.engine.approve(preview.preview_id, approver=who).approval_id for who in ("ana", "ben")]
        run = self.engine.up if kind == "update" else self.engine.destroy
        return lambda: run(STACK, user="bench", preview_id=preview.preview_id, approval_id=approvals)


def synth_process(root: Path) -> tuple[float, int]:
    """`datamcp synth` as a whole process (no bytecode written): seconds and bytes of JSON."""
    env = {**os.environ, "DATAMCP_PROJECT_ROOT": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.perf_counter()
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "datamcp"), "synth", STACK, "--format", "json"],
        capture_output=True,
        env=env,
        check=True,
    )
    return time.perf_counter() - start, len(done.stdout)


def simulator_share(fn: Callable[[], Any], folder: Path) -> tuple[float, float]:
    """(wall seconds, share of them inside the simulated provider's RPC handlers) for one run of `fn`."""
    from bench_sandbox import provider_seconds

    from engine.sandbox.provider import PROFILE_ENV

    os.environ[PROFILE_ENV] = str(folder)
    try:
        start = time.perf_counter()
        fn()
        wall = time.perf_counter() - start
    finally:
        del os.environ[PROFILE_ENV]
    inside, _ = provider_seconds(folder)
    return wall, inside / wall


def mcp_preview_bytes(scale: Scale) -> int:
    """Bytes of the default `preview` tool result an agent receives (the MCP server in memory, an operator)."""
    from fastmcp import Client

    import mcp_server
    from engine.mcpserver.settings import McpSettings

    server = mcp_server.create_server(scale.settings, McpSettings(stdio_roles=["operator"]), engine=scale.engine)

    async def call() -> int:
        async with Client(server) as client:
            result = await client.call_tool("preview", {"stack": STACK})
        return len(result.content[0].text.encode())  # type: ignore[union-attr]

    return asyncio.run(call())


def measure(resources: int, runs: int, checkpoints_up_to: int) -> dict[str, Any]:
    """Everything for one N, in this process."""
    if resources > checkpoints_up_to:
        os.environ["PULUMI_SKIP_CHECKPOINTS"] = "true"  # the CLIs this process starts, plain and engine alike
    work = Path(tempfile.mkdtemp(prefix="datamcp-scale-"))
    try:
        with PeakMemory() as memory:
            out = _measure(Scale(work, resources), runs)
        out["peak_mb"] = memory.peaks
        out["skip_checkpoints"] = resources > checkpoints_up_to
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _measure(s: Scale, runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["synth_s"], out["synth_bytes"] = synth_process(s.root)
    s.plain_preview()  # warm both paths once (stack creation, plugin caches, imports)
    s.engine_preview()
    out["preview"] = alternate({"plain": s.plain_preview, "engine": s.engine_preview}, runs)
    out["preview"]["plain_no_plan"] = median_seconds(s.plain.preview, runs)
    out["resources"] = sum(s.engine_preview().change_summary.values())
    _, out["preview_simulator"] = simulator_share(s.engine_preview, s.work / "profile-preview")
    out["mcp_preview_bytes"] = mcp_preview_bytes(s)
    out["up"], out["destroy"], out["up_simulator"] = _apply_cycles(s, runs)
    out["noop_preview"] = alternate({"plain": s.plain_preview, "engine": s.engine_preview}, runs)
    out["refresh"] = alternate(
        {
            "plain": lambda: s.plain.preview_refresh(on_event=lambda _: None),
            "engine": lambda: s.engine.refresh(STACK, user="bench"),
        },
        runs,
    )
    last = median_seconds(s.engine_apply("destroy"), 1)
    out["destroy"]["engine"] = statistics.median([*out["destroy"].pop("engine_runs"), last])
    return out


def _ignore(_: object) -> None:
    """The plain API reads the CLI's events too (the engine needs them for progress and its result)."""


def _apply_cycles(s: Scale, runs: int) -> tuple[dict[str, Any], dict[str, Any], float]:
    """`runs` rounds of: the plain API's up (its own saved plan) and destroy, then the engine's approved up (and,
    but in the last round, destroy); the stack is left up. Medians, and the simulator's share of the first
    engine up."""
    up: dict[str, list[float]] = {"plain": [], "engine": []}
    destroy: dict[str, list[float]] = {"plain": [], "engine_runs": []}
    share = 0.0
    for i in range(runs):
        s.plain_preview()
        up["plain"].append(median_seconds(lambda: s.plain.up(plan=s.plan, show_secrets=False, on_event=_ignore), 1))
        destroy["plain"].append(median_seconds(lambda: s.plain.destroy(show_secrets=False, on_event=_ignore), 1))
        engine_up = s.engine_apply("update")
        if i == 0:
            wall, share = simulator_share(engine_up, s.work / "profile-up")
        else:
            wall = median_seconds(engine_up, 1)
        up["engine"].append(wall)
        if i < runs - 1:
            destroy["engine_runs"].append(median_seconds(s.engine_apply("destroy"), 1))
    medians = {k: statistics.median(v) for k, v in up.items()}
    return medians, {"plain": statistics.median(destroy["plain"]), "engine_runs": destroy["engine_runs"]}, share


STEPS = ("preview", "up", "noop_preview", "refresh", "destroy")


def report(results: dict[int, dict[str, Any]]) -> None:
    print(f"{'N':>6} {'step':<13} {'plain s':>8} {'engine s':>9} {'ratio':>6}")
    for n, r in results.items():
        for step in STEPS:
            plain, engine = r[step]["plain"], r[step]["engine"]
            skipped = " (no intermediate checkpoints)" if step in ("up", "destroy") and r["skip_checkpoints"] else ""
            print(f"{n:>6} {step:<13} {plain:>8.2f} {engine:>9.2f} {engine / plain:>6.3f}{skipped}")
        print(
            f"{n:>6} resources {r['resources']}; synth {r['synth_s']:.2f} s ({r['synth_bytes']:,} B); preview without "
            f"a saved plan {r['preview']['plain_no_plan']:.2f} s; simulator share: preview {r['preview_simulator']:.1%}"
            f", up {r['up_simulator']:.1%} (target < {SIMULATOR_TARGET:.0%}); MCP preview result "
            f"{r['mcp_preview_bytes']:,} B; peak RSS: engine {r['peak_mb']['engine']:.0f} MB, largest child "
            f"{r['peak_mb']['largest_child']:.0f} MB, all together {r['peak_mb']['tree']:.0f} MB (target < "
            f"{MEMORY_TARGET_MB} MB)"
        )
    worst = max(r[s]["engine"] / r[s]["plain"] for r in results.values() for s in STEPS if s != "destroy")
    print(f"worst engine/plain ratio (preview, up, no-op preview, refresh): {worst:.3f} (target <= {OVERHEAD_TARGET})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="100,1000,5000", help="comma-separated resource counts")
    parser.add_argument("--runs", type=int, default=3, help="runs of each timed preview and refresh (medians)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument(
        "--checkpoints-up-to", type=int, default=1000, help="above this N, up and destroy skip intermediate checkpoints"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one N in this process
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.runs, args.checkpoints_up_to)))
        return
    results: dict[int, dict[str, Any]] = {}
    for n in (int(x) for x in args.sizes.split(",")):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                str(n),
                "--runs",
                str(args.runs),
                "--checkpoints-up-to",
                str(args.checkpoints_up_to),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        results[n] = json.loads(done.stdout.strip().splitlines()[-1])
        print(f"N={n} measured", file=sys.stderr)
    report(results)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
