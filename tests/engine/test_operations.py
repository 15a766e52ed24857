"""The Engine through the real CLI, the simulated cloud and a temp file backend."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.audit import OperationRecord
from engine.audit.sqlite import SqliteAuditStore
from engine.cli import main as cli_main
from engine.errors import (
    ApprovalInvalid,
    AuditUnavailable,
    InvalidInput,
    OperationCancelled,
    PendingOperations,
    StackBusy,
    StackNotFound,
    StalePreview,
)
from engine.operations import Engine
from engine.results import PreviewResult
from engine.sandbox.inventory import Inventory
from engine.settings import Settings
from engine.synth import synth

pytestmark = pytest.mark.slow
DEV_REPO_TOKEN = "ghp_sandboxDevTokenNotReal0123456789abcd"
STACK = "gcp-dev"


def counts(stack: str = STACK) -> tuple[int, int, int]:
    """(cloud resources, registrations + the stack, explicit providers) of a stack, from synth."""
    graph = synth(stack, Path(__file__).resolve().parents[2], isolated=False)
    cloud = sum(1 for r in graph.resources if r.custom and not r.type.startswith("pulumi:providers:"))
    providers = sum(1 for r in graph.resources if r.type.startswith("pulumi:providers:"))
    return cloud, len(graph.resources) - providers + 1, providers


def inventory(settings: Settings, stack: str = STACK) -> list[dict[str, Any]]:
    assert settings.sandbox_dir is not None
    return Inventory(settings.sandbox_dir).list("datamcp", stack)


def approved(engine: Engine, user: str = "alice", approver: str = "bob", stack: str = STACK) -> tuple[str, str]:
    preview = engine.preview(stack, user=user)
    return preview.preview_id, engine.approve(preview.preview_id, approver=approver).approval_id


def approved_by_two(engine: Engine, preview_id: str) -> list[str]:
    """Production stacks need two different approvers."""
    return [engine.approve(preview_id, approver=who).approval_id for who in ("bob", "carol")]


def deploy(engine: Engine, stack: str = STACK) -> None:
    preview_id = engine.preview(stack, user="alice").preview_id
    assert engine.up(
        stack, user="alice", preview_id=preview_id, approval_id=approved_by_two(engine, preview_id)
    ).applied


def wait_until_gone(group: int, seconds: float = 30) -> None:
    """Until no process of the process group runs (zombies, dead but not yet reaped, do not count)."""
    deadline = time.monotonic() + seconds
    while any(state != "Z" and pgrp == group for state, pgrp in _processes()):
        assert time.monotonic() < deadline, f"process group {group} still runs"
        time.sleep(0.05)


def _processes() -> list[tuple[str, int]]:
    """(state, process group) of every process, from /proc/PID/stat (the fields after the command's ")")."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split() if entry.name.isdigit() else []
        except OSError:
            continue  # it ended while we looked
        if fields:
            found.append((fields[0], int(fields[2])))
    return found


def statuses(engine: Engine) -> list[tuple[str, str]]:
    return [(r.tool, r.status) for r in reversed(engine.list_operations(limit=100).items)]


def test_preview_approve_up_then_no_changes(engine: Engine, sandbox_settings: Settings) -> None:
    progress: list[Any] = []
    cloud, steps, providers = counts()
    preview = engine.preview(STACK, user="alice", on_progress=progress.append)
    assert preview.change_summary == {"create": steps + providers} and preview.has_changes
    assert {c.op for c in preview.changes} == {"create"} and len(preview.changes) == steps + providers
    assert len(preview.changes) == sum(preview.change_summary.values())  # the list and the summary agree
    approval = engine.approve(preview.preview_id, approver="bob")
    result = engine.up(
        STACK,
        user="alice",
        preview_id=preview.preview_id,
        approval_id=approval.approval_id,
        on_progress=progress.append,
    )
    assert result.applied and result.change_summary == {"create": steps + providers}
    assert result.outputs["kubeconfig"] == "[secret]" and result.update_version == 1
    assert len(inventory(sandbox_settings)) == cloud
    finished = [p for p in progress if p.kind == "resource_finished" and p.total]
    assert finished and finished[-1].done == finished[-1].total == steps + providers
    again = engine.preview(STACK, user="alice")
    assert not again.has_changes and again.changes == []
    up_record = engine.get_operation(result.operation_id)
    assert up_record.status == "succeeded" and up_record.approval_id == approval.approval_id
    assert up_record.update_version == 1 and len(up_record.resource_refs) == steps + providers
    assert engine.audit.verify().ok


def test_up_without_approval_changes_nothing(engine: Engine, sandbox_settings: Settings) -> None:
    result = engine.up(STACK, user="alice")
    assert not result.applied and result.preview is not None and result.preview.has_changes
    assert "datamcp approve" in result.message
    assert inventory(sandbox_settings) == []
    assert engine.outputs(STACK) == {}
    with pytest.raises(ApprovalInvalid, match="no approval"):
        engine.up(STACK, user="alice", preview_id=result.preview.preview_id, approval_id="0" * 8)
    assert inventory(sandbox_settings) == []
    assert statuses(engine)[-1] == ("up", "refused")


def test_self_approval_and_reuse_and_forgery_are_refused(engine: Engine) -> None:
    preview = engine.preview(STACK, user="alice")
    with pytest.raises(ApprovalInvalid, match="cannot approve"):
        engine.approve(preview.preview_id, approver="alice")
    approval = engine.approve(preview.preview_id, approver="bob")
    path = engine.approvals.root / f"{approval.approval_id}.json"
    forged = json.loads(path.read_text()) | {"approver": "carol"}
    path.write_text(json.dumps(forged))
    with pytest.raises(ApprovalInvalid, match="signature"):
        engine.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=approval.approval_id)
    good = engine.approve(preview.preview_id, approver="bob")
    assert engine.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=good.approval_id).applied
    with pytest.raises(ApprovalInvalid, match="already used"):
        engine.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=good.approval_id)


def test_stale_previews_are_refused(engine: Engine, sandbox_settings: Settings) -> None:
    # config edited after the preview
    preview_id, approval_id = approved(engine)
    config = sandbox_settings.project_root / f"Pulumi.{STACK}.yaml"
    original = config.read_text()
    doc = yaml.safe_load(original)
    doc["config"]["datamcp:app"]["replicas"] = 2
    config.write_text(yaml.safe_dump(doc))
    with pytest.raises(StalePreview, match="config changed"):
        engine.up(STACK, user="alice", preview_id=preview_id, approval_id=approval_id)
    assert inventory(sandbox_settings) == []
    config.write_text(original)

    # state changed by another up after the preview
    first_id, first_approval = approved(engine)
    second_id, second_approval = approved(engine)
    assert engine.up(STACK, user="alice", preview_id=first_id, approval_id=first_approval).applied
    with pytest.raises(StalePreview, match="state changed"):
        engine.up(STACK, user="alice", preview_id=second_id, approval_id=second_approval)

    # too old: the preview's own expiry is bound and recorded, so moving it voids the preview; nobody can approve it
    old_id, old_approval = approved(engine)
    record = engine.previews.get(old_id)
    engine.previews.save(record.model_copy(update={"expires_epoch": int(time.time()) - 1}))
    with pytest.raises(StalePreview, match="audit trail recorded"):
        engine.up(STACK, user="alice", preview_id=old_id, approval_id=old_approval)
    with pytest.raises(StalePreview, match="expired"):
        engine.approve(old_id, approver="bob")
    assert [s for t, s in statuses(engine) if t == "up"] == ["refused", "succeeded", "refused", "refused"]


def two_approved_destroys(
    engine: Engine, settings: Settings
) -> tuple[PreviewResult, PreviewResult, dict[str, list[str]], Path, bytes]:
    """The stack deployed; two destroys previewed from its state and approved; its checkpoint file and bytes."""
    deploy(engine)
    first, second = (engine.destroy(STACK, user="alice").preview for _ in (1, 2))
    assert first is not None and second is not None
    approvals = {p.preview_id: approved_by_two(engine, p.preview_id) for p in (first, second)}
    checkpoint = Path(settings.backend_url.removeprefix("file://")) / ".pulumi/stacks/datamcp/gcp-dev.json"
    return first, second, approvals, checkpoint, checkpoint.read_bytes()


def test_a_checkpoint_put_back_does_not_make_an_old_approved_preview_current_again(
    engine: Engine, sandbox_settings: Settings
) -> None:
    """Rollback replay: two destroys approved from one state; one runs; someone who can write the backend puts the
    checkpoint back as it was, so the state digest matches the other again. The trail shows the write: refused."""
    first, second, approvals, checkpoint, before = two_approved_destroys(engine, sandbox_settings)
    done = engine.destroy(STACK, user="alice", preview_id=first.preview_id, approval_id=approvals[first.preview_id])
    assert done.applied and inventory(sandbox_settings) == []
    checkpoint.write_bytes(before)
    with pytest.raises(StalePreview, match=f"written by destroy {done.operation_id}") as stale:
        engine.destroy(STACK, user="alice", preview_id=second.preview_id, approval_id=approvals[second.preview_id])
    assert stale.value.details["written_by"] == done.operation_id
    assert [s for t, s in statuses(engine) if t == "destroy"] == ["succeeded", "refused"]
    assert not [a for a in approvals[second.preview_id] if engine.approvals.used(a)]  # nothing was spent


def test_nobody_is_asked_to_approve_or_approves_a_preview_whose_stack_was_written_since(engine: Engine) -> None:
    old = engine.preview(STACK, user="alice")
    written = engine.refresh(STACK, user="alice", preview_only=False)
    with pytest.raises(StalePreview, match=f"written by refresh {written.operation_id}"):
        engine.request_apply(old.preview_id, user="alice", reason="ship it")
    with pytest.raises(StalePreview, match=f"written by refresh {written.operation_id}"):
        engine.approve(old.preview_id, approver="bob")
    assert not engine.approvals.for_preview(old.preview_id)
    assert [s for t, s in statuses(engine) if t in ("approve", "request-apply")] == ["refused", "refused"]
    engine.refresh(STACK, user="alice")  # a drift check only looks: it writes nothing
    assert engine.approve(engine.preview(STACK, user="alice").preview_id, approver="bob")


def test_an_apply_keeps_the_stack_until_its_record_is_written(
    engine: Engine, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rollback replay in the gap between an apply's CLI and its final record: were the stack free before the trail
    shows the write, an apply of another preview of the old state, with the checkpoint put back meanwhile, would run."""
    first, second, approvals, checkpoint, before = two_approved_destroys(engine, sandbox_settings)
    recording, go_on = threading.Event(), threading.Event()
    append_or_spool = engine.parts.audit.append_or_spool

    def slow(record: OperationRecord, attachment: str | None = None) -> str | None:
        if record.tool == "destroy" and record.status == "succeeded" and not recording.is_set():
            recording.set()
            go_on.wait(120)
        return append_or_spool(record, attachment)

    monkeypatch.setattr(engine.parts.audit, "append_or_spool", slow)
    ids = approvals[first.preview_id]
    thread = threading.Thread(
        target=lambda: engine.destroy(STACK, user="alice", preview_id=first.preview_id, approval_id=ids)
    )
    thread.start()
    try:
        assert recording.wait(120)
        checkpoint.write_bytes(before)
        with pytest.raises(StackBusy):
            engine.destroy(STACK, user="alice", preview_id=second.preview_id, approval_id=approvals[second.preview_id])
    finally:
        go_on.set()
        thread.join(120)
    with pytest.raises(StalePreview, match="written by destroy"):
        engine.destroy(STACK, user="alice", preview_id=second.preview_id, approval_id=approvals[second.preview_id])
    assert not [a for a in approvals[second.preview_id] if engine.approvals.used(a)]


def test_two_concurrent_ups_one_runs_the_other_is_busy(
    engine: Engine, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = approved(engine)
    b = approved(engine)
    monkeypatch.setenv("DATAMCP_SANDBOX_FAULTS", json.dumps({"stall_create": "network-vpc", "stall_seconds": "4"}))
    results: dict[str, Any] = {}

    def run(name: str, ids: tuple[str, str]) -> None:
        try:
            results[name] = engine.up(STACK, user="alice", preview_id=ids[0], approval_id=ids[1])
        except Exception as exc:
            results[name] = exc

    first = threading.Thread(target=run, args=("a", a))
    first.start()
    while not engine.locks.holder(STACK):
        time.sleep(0.05)
    run("b", b)
    first.join(120)
    assert results["a"].applied
    assert isinstance(results["b"], StackBusy)
    assert results["b"].details["holder"]["user"] == "alice"
    assert len(inventory(sandbox_settings)) == counts()[0]
    assert not engine.preview(STACK, user="alice").has_changes


def test_cancel_mid_up_ends_cancelled_and_the_next_operation_works(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    preview_id, approval_id = approved(engine)
    monkeypatch.setenv("DATAMCP_SANDBOX_FAULTS", json.dumps({"stall_create": "network-vpc", "stall_seconds": "3"}))
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = engine.up(STACK, user="alice", preview_id=preview_id, approval_id=approval_id)
        except Exception as exc:
            outcome["result"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    while not engine.locks.holder(STACK):
        time.sleep(0.05)
    op_id = engine.locks.holder(STACK)["operation_id"]  # type: ignore[index]
    time.sleep(1.0)
    with pytest.raises(InvalidInput, match="belongs to alice"):
        engine.cancel(op_id, user="mallory")
    engine.cancel(op_id, user="alice")
    thread.join(120)
    assert isinstance(outcome["result"], OperationCancelled)
    assert engine.get_operation(op_id).status == "cancelled"
    assert engine.locks.holder(STACK) is None
    monkeypatch.delenv("DATAMCP_SANDBOX_FAULTS")
    deploy(engine)
    assert not engine.preview(STACK, user="alice").has_changes


KILLED = """
import sys
from engine.operations import Engine
from engine.results import PreviewResult
from engine.settings import Settings
root, state, tools, stack, preview_id, approval_id = sys.argv[1:]
s = Settings(project_root=root, state_dir=state, tools_dir=tools, sandbox=True)
Engine(s).up(stack, user="alice", preview_id=preview_id, approval_id=approval_id)
"""


def kill_mid_up(settings: Settings, approved_preview: tuple[str, str]) -> None:
    """An approved up run by another engine process, killed with its CLI after the CLI created the first resource;
    returns once none of those processes runs (one still exiting would hold, or write, the backend)."""
    env = {**os.environ, "DATAMCP_SANDBOX_FAULTS": json.dumps({"stall_create": "network-vpc", "stall_seconds": "60"})}
    folders = (str(p) for p in (settings.project_root, settings.state_dir, settings.tools_dir))
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED, *folders, STACK, *approved_preview], env=env, start_new_session=True
    )
    deadline = time.time() + 60
    while not [r for r in inventory(settings) if "network-vpc" in r["urn"]] and time.time() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    wait_until_gone(proc.pid)


def test_a_killed_engine_leaves_an_interrupted_record_and_pending_operations_are_reported(
    engine: Engine, sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    kill_mid_up(sandbox_settings, approved(engine))

    fresh = Engine(sandbox_settings)  # start-up marks the dead process's operation
    ups = [r for r in fresh.list_operations(limit=50).items if r.tool == "up"]
    assert ups[0].status == "interrupted", ups[0].error
    assert "ended before it finished" in (ups[0].error or "")

    preview = fresh.preview(STACK, user="alice")  # the stale backend lock of the dead CLI is cleared
    assert any("network-vpc" in urn for urn in preview.pending_operations)
    approval = fresh.approve(preview.preview_id, approver="bob")
    with pytest.raises(PendingOperations, match="clear-pending-creates"):
        fresh.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=approval.approval_id)
    fresh.refresh(STACK, user="alice", preview_only=False, clear_pending_creates=True)
    deploy(fresh)
    in_cloud = {r["urn"] for r in inventory(sandbox_settings)}
    assert len(in_cloud) == counts()[0] and not fresh.preview(STACK, user="alice").has_changes


def test_an_apply_killed_after_it_wrote_the_state_makes_the_previews_of_that_state_stale(
    engine: Engine, sandbox_settings: Settings
) -> None:
    """Rollback replay after a crash: two ups approved from one state; the first one's process dies after its CLI
    created resources (its record stays `started`, or is marked `interrupted` without naming its approvers); the
    checkpoint is put back as it was. A long-running engine (the MCP server) must not apply the other one."""
    first, second = approved(engine), approved(engine)
    checkpoint = Path(sandbox_settings.backend_url.removeprefix("file://")) / ".pulumi/stacks/datamcp/gcp-dev.json"
    before = checkpoint.read_bytes()
    kill_mid_up(sandbox_settings, first)
    checkpoint.write_bytes(before)  # the backend put back as it was: its checkpoint, and no lock of the dead CLI
    shutil.rmtree(checkpoint.parents[2] / "locks", ignore_errors=True)
    with pytest.raises(StalePreview, match="written by up") as stale:
        engine.up(STACK, user="alice", preview_id=second[0], approval_id=second[1])
    killed = engine.get_operation(str(stale.value.details["written_by"]))
    assert (killed.tool, killed.status, killed.params["preview_id"]) == ("up", "interrupted", first[0])
    assert not engine.approvals.used(second[1])  # nothing was spent


class BrokenStore:
    """An audit store that has become unwritable."""

    def __init__(self, inner: SqliteAuditStore) -> None:
        self.inner = inner
        self.broken = False

    def append(self, record: OperationRecord, attachment: str | None = None) -> OperationRecord:
        if self.broken:
            raise AuditUnavailable("disk full")
        return self.inner.append(record, attachment)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_audit_unavailable_means_nothing_runs(sandbox_settings: Settings) -> None:
    blocker = sandbox_settings.state_dir / "blocker"  # type: ignore[operator]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("not a directory")
    with pytest.raises(AuditUnavailable):
        Engine(sandbox_settings.model_copy(update={"audit_url": f"sqlite:///{blocker}/audit.db"}))
    store = BrokenStore(SqliteAuditStore(sandbox_settings.state_dir / "audit.db"))  # type: ignore[operator]
    engine = Engine(sandbox_settings, audit=store)  # type: ignore[arg-type]
    preview_id, approval_id = approved(engine)
    store.broken = True
    with pytest.raises(AuditUnavailable):
        engine.up(STACK, user="alice", preview_id=preview_id, approval_id=approval_id)
    assert inventory(sandbox_settings) == []
    assert not engine.approvals.used(approval_id)


def test_secret_config_never_appears_in_audit_results_or_cli_output(
    engine: Engine, sandbox_settings: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    deploy(engine, "aws-dev")
    assert engine.describe("aws-dev").outputs["kubeconfig"] == "[secret]"
    drift = engine.refresh("aws-dev", user="alice")
    for name in ("project_root", "state_dir", "tools_dir", "sandbox"):
        monkeypatch.setenv(f"DATAMCP_{name.upper()}", str(getattr(sandbox_settings, name)))
    for argv in (
        ["describe", "aws-dev", "--json"],
        ["preview", "aws-dev", "--format", "json"],
        ["ops", "--json"],
        ["preview", "aws-dev", "--format", "markdown"],
    ):
        assert cli_main(argv) == 0
    out = capsys.readouterr()
    everything = json.dumps(SqliteAuditStore(sandbox_settings.state_dir / "audit.db").dump())  # type: ignore[operator]
    everything += out.out + out.err + drift.model_dump_json()
    everything += "".join(p.read_text() for p in (sandbox_settings.state_dir / "previews").glob("*.json"))  # type: ignore[operator]
    assert DEV_REPO_TOKEN not in everything
    assert "[secret]" in everything


@pytest.mark.parametrize("bad", ["../gcp-dev", "--help", "gcp_dev", "gcp-dev;rm", "\u0261cp-dev"])
def test_bad_stack_names_are_rejected_before_the_cli_runs(engine: Engine, bad: str) -> None:
    with pytest.raises(InvalidInput):
        engine.preview(bad, user="alice")
    with pytest.raises(InvalidInput):
        engine.up(bad, user="alice")
    assert {(r.tool, r.status) for r in engine.list_operations().items} == {("preview", "refused")}  # nothing ran


@pytest.mark.parametrize(
    "target",
    [
        "urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::x",
        "--target-dependents",
        "urn:pulumi:gcp-dev::datamcp::x y",
        "urn:pulumi:gcp-dev::other::t::n",
    ],
)
def test_bad_targets_are_rejected_before_the_cli_runs(engine: Engine, target: str) -> None:
    with pytest.raises(InvalidInput, match="not a resource URN"):
        engine.preview(STACK, user="alice", targets=[target])
    assert [(r.tool, r.status) for r in engine.list_operations().items] == [("preview", "refused")]  # nothing ran


def test_unknown_stack(engine: Engine) -> None:
    with pytest.raises(StackNotFound):
        engine.describe("azure-dev")


def test_refresh_reports_drift_and_destroy_needs_its_own_approval(engine: Engine, sandbox_settings: Settings) -> None:
    deploy(engine)
    bucket = next(r for r in inventory(sandbox_settings) if r["type"] == "gcp:storage/bucket:Bucket")
    assert sandbox_settings.sandbox_dir is not None
    Inventory(sandbox_settings.sandbox_dir).drift(bucket["urn"], versioning={"enabled": False})
    drift = engine.refresh(STACK, user="alice")
    assert [c.urn for c in drift.drifted] == [bucket["urn"]]
    dry = engine.destroy(STACK, user="alice")
    assert not dry.applied and dry.preview is not None and dry.preview.kind == "destroy"
    assert dry.preview.change_summary.get("delete", 0) >= counts()[0]
    up_preview, up_approval = approved(engine)
    with pytest.raises(ApprovalInvalid):
        engine.destroy(STACK, user="alice", preview_id=up_preview, approval_id=up_approval)
    # destroying the stack's bucket and cluster needs two people (policy DM-RISK-001)
    approvals = approved_by_two(engine, dry.preview.preview_id)
    done = engine.destroy(STACK, user="alice", preview_id=dry.preview.preview_id, approval_id=approvals)
    assert done.applied and inventory(sandbox_settings) == []


def test_destroy_keeps_protected_resources_unless_targeted(engine: Engine, sandbox_settings: Settings) -> None:
    deploy(engine, "aws-prod")  # the prod ops-log table is protected (deletion_protection -> Pulumi protect)
    table = "urn:pulumi:aws-prod::datamcp::datamcp:aws:OpsLogTable$aws:dynamodb/table:Table::ops-log-table"
    dry = engine.destroy("aws-prod", user="alice")
    assert dry.preview is not None and table not in {c.urn for c in dry.preview.changes}
    approvals = approved_by_two(engine, dry.preview.preview_id)
    engine.destroy("aws-prod", user="alice", preview_id=dry.preview.preview_id, approval_id=approvals)
    left = {r["urn"] for r in inventory(sandbox_settings, "aws-prod")}
    assert table in left and len(left) == 1


def test_an_approved_refresh_preview_is_applied_with_its_refresh(engine: Engine, sandbox_settings: Settings) -> None:
    deploy(engine)
    bucket = next(r for r in inventory(sandbox_settings) if r["type"] == "gcp:storage/bucket:Bucket")
    Inventory(sandbox_settings.sandbox_dir).drift(bucket["urn"], versioning={"enabled": False})
    preview = engine.preview(STACK, user="alice", refresh=True)
    assert preview.change_summary.get("update") == 1  # the drift, to be put right
    approval = engine.approve(preview.preview_id, approver="bob")
    applied = engine.up(STACK, user="alice", preview_id=preview.preview_id, approval_id=approval.approval_id)
    assert applied.change_summary.get("update") == 1
    assert engine.refresh(STACK, user="alice").drifted == []


def test_a_cancel_that_lands_before_the_cli_runs_ends_cancelled(engine: Engine) -> None:
    op_id = "early-cancel-0001"
    engine.request_cancel(op_id)  # the client gave up before the operation reached the CLI
    with pytest.raises(OperationCancelled):
        engine.preview(STACK, user="alice", operation_id=op_id)
    assert engine.get_operation(op_id).status == "cancelled"


def test_two_first_operations_on_a_new_stack_both_run(engine: Engine) -> None:
    results: list[Any] = []

    def check() -> None:
        try:
            results.append(engine.refresh(STACK, user="alice"))
        except Exception as exc:
            results.append(exc)

    threads = [threading.Thread(target=check) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [type(r).__name__ for r in results] == ["RefreshResult", "RefreshResult"]


def test_a_no_op_preview_reports_progress_over_the_whole_stack(engine: Engine) -> None:
    deploy(engine)
    events: list[Any] = []
    preview = engine.preview(STACK, user="alice", on_progress=events.append)
    assert not preview.has_changes and events
    assert events[-1].total is not None and events[-1].done == events[-1].total
    assert [e.done for e in events] == sorted(e.done for e in events)


def test_outputs_come_from_a_file_backend_without_the_cli(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    deploy(engine)
    through_the_cli = engine.queries.state_files
    engine.queries.state_files = None
    expected = engine.outputs(STACK)
    engine.queries.state_files = through_the_cli

    def no_cli(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a read view started the CLI")

    monkeypatch.setattr(engine.parts.sessions, "handle", no_cli)
    assert engine.outputs(STACK) == expected and expected["kubeconfig"] == "[secret]"
    assert engine.describe(STACK).outputs == expected
    assert engine.outputs("gcp-prod") == {}  # never deployed
