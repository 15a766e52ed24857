"""The shared PostgreSQL store (engine/pgstore/) on a throwaway cluster the benchmark starts and stops itself
(tests/postgres.py): approval save and consume, 8 hosts racing for one approval, stack lease acquire and release,
the hand-over of a lease to a waiting holder, and previews made by three engine processes sharing the store. Run on
demand: `.venv/bin/python benchmarks/bench_store.py [--approvals 500] [--races 100] [--leases 500] [--handovers 30]
[--previews 50]`. Prints a table and, with --json, the figures as JSON."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from engine.approvals import Approval
from engine.errors import ApprovalInvalid, DataMcpError
from engine.operations import Engine
from engine.pgstore.approvals import PgApprovalStore
from engine.pgstore.database import Database
from engine.pgstore.leases import POLL_SECONDS, StackLeases
from engine.pgstore.previews import PgPreviewStore
from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("aws-dev", "aws-prod", "gcp-dev", "gcp-prod")
HOSTS = ("A", "B", "C")
RACERS = 8
WARM_UP = 5  # untimed calls first: the pool's connection, the server's plan cache


def cluster() -> AbstractContextManager[str]:
    """tests/postgres.py's throwaway PostgreSQL (the checkout's tests/ is not installed, so it is put on the path)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.postgres import postgres_cluster

    return postgres_cluster()


def summary(seconds: list[float]) -> dict[str, float]:
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * q))] * 1000, 2)

    median = round(statistics.median(ordered) * 1000, 2)
    return {"n": len(ordered), "p50_ms": median, "p95_ms": at(0.95), "p99_ms": at(0.99)}


def timed(fn: Callable[..., object], *args: Any) -> float:
    started = time.perf_counter()
    fn(*args)
    return time.perf_counter() - started


def approval() -> Approval:
    """A well-formed approval (the store checks ids and keeps the JSON; signatures are the engine's business)."""
    from tests.engine.test_approvals import approval as built

    return built(str(uuid.uuid4()), str(uuid.uuid4()))


def approvals(db: Database, count: int) -> dict[str, Any]:
    """Save, then consume, one approval after another on one host."""
    store = PgApprovalStore(db)
    saves, consumes = [], []
    for i in range(WARM_UP + count):
        made = approval()
        save = timed(store.save, made)
        consume = timed(store.consume, made.approval_id, str(uuid.uuid4()))
        if i >= WARM_UP:
            saves.append(save)
            consumes.append(consume)
    return {"save": summary(saves), "consume": summary(consumes)}


class Race:
    """RACERS hosts (a Database each) consume the same approval at once, round after round."""

    def __init__(self, url: str) -> None:
        self.stores = [PgApprovalStore(Database(url, pool_size=1)) for _ in range(RACERS)]
        self.go, self.done = threading.Barrier(RACERS + 1), threading.Barrier(RACERS + 1)
        self.approval_id, self.wins, self.lock = "", 0, threading.Lock()

    def racer(self, store: PgApprovalStore, rounds: int) -> None:
        for _ in range(rounds):
            self.go.wait()
            try:
                store.consume(self.approval_id, str(uuid.uuid4()))
                with self.lock:
                    self.wins += 1
            except ApprovalInvalid:
                pass
            self.done.wait()

    def run(self, rounds: int) -> tuple[list[float], list[int]]:
        threads = [threading.Thread(target=self.racer, args=(s, rounds), daemon=True) for s in self.stores]
        for thread in threads:
            thread.start()
        times, winners = [], []
        for _ in range(rounds):
            made = self.stores[0].save(approval())
            self.approval_id, self.wins = made.approval_id, 0
            self.go.wait()
            started = time.perf_counter()
            self.done.wait()
            times.append(time.perf_counter() - started)
            winners.append(self.wins)
        for thread in threads:
            thread.join()
        return times, winners

    def close(self) -> None:
        for store in self.stores:
            store.db.close()


def race(url: str, rounds: int) -> dict[str, Any]:
    contest = Race(url)
    try:
        contest.run(WARM_UP)
        times, winners = contest.run(rounds)
    finally:
        contest.close()
    if any(w != 1 for w in winners):
        raise SystemExit(f"an approval was consumed {sorted(set(winners))} times in one round: exactly one must win")
    return {"racers": RACERS, "round": summary(times)}


def hold_once(leases: StackLeases, stack: str) -> tuple[float, float]:
    """(acquire, release) of one uncontended hold; release includes stopping the renewer."""
    started = time.perf_counter()
    with leases.hold(stack, operation_id=str(uuid.uuid4()), user="bench"):
        held = time.perf_counter()
    return held - started, time.perf_counter() - held


def leases(db: Database, count: int, ttl: float) -> dict[str, Any]:
    holder = StackLeases(db, ttl)
    runs = [hold_once(holder, "bench-solo") for _ in range(WARM_UP + count)][WARM_UP:]
    return {
        "acquire": summary([a for a, _ in runs]),
        "release": summary([r for _, r in runs]),
        "acquire_release": summary([a + r for a, r in runs]),
    }


def stamped_hold(leases: StackLeases, stack: str, got: list[float]) -> None:
    with leases.hold(stack, operation_id=str(uuid.uuid4()), user="second", wait_seconds=60):
        got.append(time.perf_counter())


def handover_once(leases: StackLeases, pause: float) -> float:
    """From the first holder's release (committed) to the moment the waiting second holder has the lease."""
    got: list[float] = []
    waiter = threading.Thread(target=stamped_hold, args=(leases, "bench-shared", got))
    with leases.hold("bench-shared", operation_id=str(uuid.uuid4()), user="first"):
        waiter.start()
        time.sleep(pause)  # the waiter is polling by now, at a random phase of its poll
    released = time.perf_counter()
    waiter.join()
    return got[0] - released


def handovers(db: Database, rounds: int, ttl: float) -> dict[str, Any]:
    holder, pauses = StackLeases(db, ttl), random.Random(7)
    times = [handover_once(holder, pauses.uniform(0.3, 0.5)) for _ in range(rounds)]
    return {"poll_ms": POLL_SECONDS * 1000, "handover": summary(times)}


def sandbox_root(work: Path) -> Path:
    """A private project root, as tests/conftest.py's sandbox_settings builds it."""
    from tests.project import sandbox_project

    return sandbox_project(work)


def host_settings(work: Path, url: str, name: str, ttl: float) -> dict[str, Any]:
    """One host as tests/engine/test_many_hosts.py configures it: its own state dir; the store, the Pulumi backend,
    the simulated cloud and the keys shared. A busy stack is waited for (another host may preview it)."""
    shared = work / "shared"
    return {
        "project_root": work / "project",
        "state_dir": work / f"host-{name}",
        "tools_dir": ROOT / ".tools" / "bin",
        "backend_url": (shared / "backend").as_uri(),
        "sandbox": True,
        "sandbox_dir": shared / "sandbox",
        "store_url": url,
        "approval_key": "a-dev-key-the-three-hosts-share",
        "notary_key_file": shared / "notary.key",
        "audit_anchor_url": (shared / "anchor.json").as_uri(),
        "lease_seconds": ttl,
        "lock_wait_seconds": 600,
    }


START: Any = None  # each host process's barrier: timing starts once every engine is up and warm


def keep_barrier(barrier: Any) -> None:
    global START  # a pool initializer hands the barrier to its workers this way
    START = barrier


def host(job: tuple[dict[str, Any], str, str, list[str]]) -> list[tuple[str, float, str]]:
    """One engine process: a warm-up preview (untimed), then its share of the previews, one after another."""
    kwargs, xdg, warm_up, stacks = job
    for name in [n for n in os.environ if n.startswith(("DATAMCP_", "PULUMI_"))]:
        del os.environ[name]
    os.environ["XDG_STATE_HOME"] = xdg
    try:
        engine = Engine(Settings(**kwargs))
        engine.preview(warm_up, user="bench-warm-up")
    except BaseException:
        START.abort()  # the other hosts and the timer stop waiting; the pool returns this error
        raise
    START.wait()
    done = []
    for stack in stacks:
        started = time.perf_counter()
        try:
            result = engine.preview(stack, user="bench")
            done.append((stack, time.perf_counter() - started, result.preview_id))
        except DataMcpError as exc:
            done.append((stack, time.perf_counter() - started, f"error: {exc.message[:200]}"))
    return done


def share(h: int, count: int) -> list[str]:
    """Host h's previews: preview i is of STACKS[i % 4] on HOSTS[i % 3]."""
    return [STACKS[i % len(STACKS)] for i in range(h, count, len(HOSTS))]


def run_hosts(work: Path, url: str, count: int, ttl: float) -> tuple[list[tuple[str, float, str]], float]:
    """The hosts' previews in their own processes; the wall clock runs from the moment every host is warm."""
    xdg = str(work / "xdg")
    jobs = [(host_settings(work, url, name, ttl), xdg, STACKS[h], share(h, count)) for h, name in enumerate(HOSTS)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(HOSTS) + 1)
    with context.Pool(len(HOSTS), initializer=keep_barrier, initargs=(barrier,)) as pool:
        results = pool.map_async(host, jobs)
        try:
            barrier.wait(timeout=600)
        except threading.BrokenBarrierError:
            results.get(timeout=60)  # raises the host's own error
            raise
        started = time.perf_counter()
        done = [row for rows in results.get(timeout=3600) for row in rows]
    return done, time.perf_counter() - started


def stored(url: str, ids: list[str], plans: Path) -> dict[str, int]:
    """How many of the timed previews the store gives back as records, and its row count (warm-ups included)."""
    db = Database(url)
    try:
        rows = db.one("SELECT count(*) FROM previews")
        recent = PgPreviewStore(db, plans).recent(limit=len(ids) + len(HOSTS))
    finally:
        db.close()
    return {"readable": len(set(ids) & {r.preview_id for r in recent}), "rows": int(rows[0]) if rows else 0}


def previews(url: str, count: int, ttl: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="datamcp-bench-") as tmp:
        work = Path(tmp)
        sandbox_root(work)
        (work / "shared" / "backend").mkdir(parents=True)
        done, wall = run_hosts(work, url, count, ttl)
        ok = [row for row in done if not row[2].startswith("error")]
        check = stored(url, [row[2] for row in ok], work / "check-plans")
    return {
        "hosts": len(HOSTS),
        "previews": count,
        "wall_s": round(wall, 1),
        "per_minute": round(count / wall * 60, 1),
        "preview": summary([row[1] for row in ok]),
        "errors": [row[2] for row in done if row[2].startswith("error")],
        **check,
    }


def table(results: dict[str, Any]) -> str:
    a, lease = results["approvals"], results["leases"]
    rows = [
        ("approval save", a["save"]),
        ("approval consume", a["consume"]),
        (f"consume race, {a['race']['racers']} hosts, one approval (a round)", a["race"]["round"]),
        ("lease acquire (uncontended)", lease["acquire"]),
        ("lease release", lease["release"]),
        ("lease acquire + release", lease["acquire_release"]),
        (f"lease hand-over to a waiting holder (polls every {lease['poll_ms']:g} ms)", lease["handover"]),
    ]
    if "previews" in results:
        p = results["previews"]
        rows.append((f"preview, {p['hosts']} hosts sharing the store", p["preview"]))
    lines = ["| measure | n | p50 ms | p95 ms | p99 ms |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {name} | {s['n']} | {s['p50_ms']:.2f} | {s['p95_ms']:.2f} | {s['p99_ms']:.2f} |" for name, s in rows]
    return "\n".join(lines)


def footer(p: dict[str, Any]) -> str:
    return (
        f"previews: {p['previews']} on {p['hosts']} hosts in {p['wall_s']:.1f} s ({p['per_minute']:.1f}/min); "
        f"errors: {len(p['errors'])}{' ' + str(p['errors'][:2]) if p['errors'] else ''}; "
        f"{p['readable']} of {p['previews'] - len(p['errors'])} "
        f"readable from the store ({p['rows']} rows with the {p['hosts']} warm-ups)"
    )


def measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"cores": os.cpu_count()}
    with cluster() as url:
        db = Database(url)
        try:
            row = db.one("SHOW server_version")
            results["server"] = str(row[0]) if row else "?"
            results["approvals"] = {**approvals(db, args.approvals), "race": race(url, args.races)}
            ttl = args.lease_seconds
            results["leases"] = {**leases(db, args.leases, ttl), **handovers(db, args.handovers, ttl)}
        finally:
            db.close()
        if args.previews:
            results["previews"] = previews(url, args.previews, args.lease_seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--approvals", type=int, default=500, help="approvals saved then consumed")
    parser.add_argument("--races", type=int, default=100, help=f"rounds of {RACERS} hosts consuming one approval")
    parser.add_argument("--leases", type=int, default=500, help="uncontended lease holds")
    parser.add_argument("--handovers", type=int, default=30, help="hand-overs to a waiting holder")
    parser.add_argument("--previews", type=int, default=50, help="previews over the three hosts (0: none)")
    parser.add_argument("--lease-seconds", type=float, default=Settings.model_fields["lease_seconds"].default)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = measure(args)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"PostgreSQL {results['server']} on loopback (tests/postgres.py: fsync off), {results['cores']} cores")
    print(table(results))
    if "previews" in results:
        print(footer(results["previews"]))


if __name__ == "__main__":
    main()
