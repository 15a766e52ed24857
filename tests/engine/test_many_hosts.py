"""Many hosts, one shared store: three engine processes with their own state dirs share a real PostgreSQL (and, as
hosts do, the Pulumi backend and the cloud). A preview made on A is approved on B and applied on C; one approval
runs once however many hosts try; a holder killed mid-apply loses its lease, its operation is marked interrupted
elsewhere, and applies are refused until recovery; the store down stops everything."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from engine.sandbox.inventory import Inventory
from engine.settings import Settings
from engine.synth import synth
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STACK = "gcp-dev"
LEASE_SECONDS = 4


@dataclass
class Host:
    name: str
    env: dict[str, str]

    def start(self, *args: str, faults: dict[str, str] | None = None) -> subprocess.Popen[str]:
        env = {**self.env, "DATAMCP_SANDBOX_FAULTS": json.dumps(faults or {})}
        return subprocess.Popen(
            [sys.executable, "-m", "engine.cli", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        proc = self.start(*args)
        out, err = proc.communicate(timeout=300)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)

    def ok(self, *args: str) -> Any:
        done = self.run(*args, "--json") if args[0] != "preview" else self.run(*args, "--format", "json")
        assert done.returncode == 0, f"{self.name}: {' '.join(args)}\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        return json.loads(done.stdout)


@pytest.fixture
def store() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def hosts(sandbox_settings: Settings, store: str, tmp_path: Path) -> dict[str, Host]:
    shared = tmp_path / "shared"
    shared.mkdir()
    common = {
        **os.environ,
        "DATAMCP_PROJECT_ROOT": str(sandbox_settings.project_root),
        "DATAMCP_TOOLS_DIR": str(sandbox_settings.tools_dir),
        "DATAMCP_BACKEND_URL": (shared / "backend").as_uri(),
        "DATAMCP_SANDBOX": "1",
        "DATAMCP_SANDBOX_DIR": str(shared / "sandbox"),
        "DATAMCP_STORE_URL": store,
        "DATAMCP_APPROVAL_KEY": "a-dev-key-the-three-hosts-share",
        "DATAMCP_NOTARY_KEY_FILE": str(shared / "notary.key"),
        "DATAMCP_AUDIT_ANCHOR_URL": (shared / "anchor.json").as_uri(),
        "DATAMCP_LEASE_SECONDS": str(LEASE_SECONDS),
    }
    (shared / "backend").mkdir()
    return {n: Host(n, {**common, "DATAMCP_STATE_DIR": str(tmp_path / f"host-{n}")}) for n in "ABC"}


def approve(host: Host, preview_id: str) -> list[str]:
    return [host.ok("approve", preview_id, "--approver", who, "--yes")["approval_id"] for who in ("bob", "carol")]


def up_args(preview_id: str, approvals: list[str]) -> list[str]:
    return ["up", STACK, "--preview-id", preview_id, *[a for i in approvals for a in ("--approval-id", i)]]


def cloud_resources() -> int:
    graph = synth(STACK, ROOT, isolated=False)
    return sum(1 for r in graph.resources if r.custom and not r.type.startswith("pulumi:providers:"))


def cloud(hosts: dict[str, Host]) -> list[dict[str, Any]]:
    return Inventory(Path(hosts["A"].env["DATAMCP_SANDBOX_DIR"])).list("datamcp", STACK)


def test_a_preview_made_on_a_is_approved_on_b_and_applied_on_c(hosts: dict[str, Host], tmp_path: Path) -> None:
    preview = hosts["A"].ok("preview", STACK)
    approvals = approve(hosts["B"], preview["preview_id"])
    applied = hosts["C"].ok(*up_args(preview["preview_id"], approvals))
    assert applied["applied"] and len(cloud(hosts)) == cloud_resources()
    assert not (tmp_path / "host-C" / "previews").exists()  # C read the preview from the store
    assert (tmp_path / "host-C" / "plans" / f"{preview['preview_id']}.plan.json").is_file()  # and its plan
    ops = hosts["B"].ok("ops", "--stack", STACK, "--limit", "10")
    assert [(o["tool"], o["status"]) for o in reversed(ops["items"])][-4:] == [
        ("preview", "succeeded"),
        ("approve", "succeeded"),
        ("approve", "succeeded"),
        ("up", "succeeded"),
    ]
    assert hosts["C"].ok("ops", "verify")["ok"]


def test_one_approval_applied_from_two_hosts_at_once_runs_once(hosts: dict[str, Host]) -> None:
    preview = hosts["A"].ok("preview", STACK)
    approvals = approve(hosts["B"], preview["preview_id"])
    racers = [hosts[n].start(*up_args(preview["preview_id"], approvals), "--json") for n in "AC"]
    results = [(p.wait(300), p.stdout.read() if p.stdout else "", p.stderr.read() if p.stderr else "") for p in racers]
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] in (4, 5), results  # refused (used / stale) or busy, never a second run
    ups = [o for o in hosts["B"].ok("ops", "--stack", STACK, "--limit", "20")["items"] if o["tool"] == "up"]
    assert sum(o["status"] == "succeeded" for o in ups) == 1


def test_a_killed_lease_holder_is_marked_interrupted_elsewhere_and_applies_wait_for_recovery(
    hosts: dict[str, Host],
) -> None:
    preview = hosts["A"].ok("preview", STACK)
    approvals = approve(hosts["B"], preview["preview_id"])
    stalled = {"stall_create": "network-vpc", "stall_seconds": "120"}
    holder = hosts["A"].start(*up_args(preview["preview_id"], approvals), faults=stalled)
    deadline = time.time() + 120
    while not any("network-vpc" in r["urn"] for r in cloud(hosts)) and time.time() < deadline:
        time.sleep(0.2)
    os.killpg(holder.pid, signal.SIGKILL)  # the host dies: the engine and its CLI
    holder.wait(30)
    busy = hosts["C"].run("refresh", STACK, "--apply", "--clear-pending-creates")
    assert busy.returncode == 5 and "is busy: operation" in busy.stderr  # the lease is still A's
    time.sleep(LEASE_SECONDS + 1)
    again = hosts["B"].ok("preview", STACK)  # another host marks A's operation interrupted
    assert again["pending_operations"]
    ups = [o for o in hosts["C"].ok("ops", "--stack", STACK, "--limit", "20")["items"] if o["tool"] == "up"]
    assert ups[0]["status"] == "interrupted" and "ended before it finished" in ups[0]["error"]
    refused = hosts["C"].run(*up_args(again["preview_id"], approve(hosts["B"], again["preview_id"])))
    assert refused.returncode == 4 and "clear-pending-creates" in refused.stderr
    hosts["C"].ok("refresh", STACK, "--apply", "--clear-pending-creates")
    fresh = hosts["A"].ok("preview", STACK)
    assert hosts["C"].ok(*up_args(fresh["preview_id"], approve(hosts["B"], fresh["preview_id"])))["applied"]


def test_the_store_down_stops_every_operation_with_a_clear_error(sandbox_settings: Settings, tmp_path: Path) -> None:
    with postgres_cluster() as url:
        host = Host(
            "A",
            {
                **os.environ,
                "DATAMCP_PROJECT_ROOT": str(sandbox_settings.project_root),
                "DATAMCP_TOOLS_DIR": str(sandbox_settings.tools_dir),
                "DATAMCP_STORE_URL": url,
                "DATAMCP_STATE_DIR": str(tmp_path / "host-A"),
                "DATAMCP_SANDBOX": "1",
            },
        )
        preview = host.ok("preview", STACK)
    for args in (["preview", STACK], ["approve", preview["preview_id"], "--approver", "bob", "--yes"], ["ops"]):
        done = host.run(*args)
        assert done.returncode == 1 and "cannot open the PostgreSQL store" in done.stderr, done.stderr[-2000:]
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "host-A" / "sandbox").exists() or not Inventory(tmp_path / "host-A" / "sandbox").list(
        "datamcp", STACK
    )
