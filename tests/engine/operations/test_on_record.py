"""What the audit trail shows since a preview, read only from records the anchor vouches for: which applies used an
approval (the second witness of single use), and which operation wrote the preview's stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.audit import OperationRecord, now
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Notary
from engine.audit.spool import Spool
from engine.audit.sqlite import SqliteAuditStore
from engine.audit.trail import AuditTrail
from engine.errors import AuditUnavailable
from engine.operations.on_record import since_preview
from engine.previews import PreviewRecord
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status
from tests.engine.operations.builders import preview


@pytest.fixture
def trail(tmp_path: Path) -> AuditTrail:
    notary = Notary(ServerKey.generate(tmp_path / "notary.key"))
    store = SqliteAuditStore(tmp_path / "audit.db")
    return AuditTrail(store, notary, FileAnchor(tmp_path / "anchor.json"), Spool(tmp_path / "spool"))


def applied(
    trail: AuditTrail,
    op_id: str,
    ids: list[str],
    status: Status,
    tool: str = "up",
    stack: str = "aws-dev",
    **summary: Any,
) -> None:
    """An operation's started and final records, as the journal writes them."""
    params = {"approval_ids": ids}
    started = OperationRecord(
        id=op_id, user="alice", tool=tool, stack=stack, params=params, status="started", start_ts=now()
    )
    trail.append(started)
    trail.append(started.model_copy(update={"status": status, "end_ts": now(), "summary": summary}))


def used_on_record(trail: AuditTrail, p: PreviewRecord, ids: list[str]) -> dict[str, str]:
    return since_preview(trail, p, ids, own_operation="op-current").used


def written_by(trail: AuditTrail, p: PreviewRecord | None = None) -> str | None:
    record = since_preview(trail, p or preview(), [], own_operation="op-current").changed_by
    return record.id if record is not None else None


def test_an_apply_that_used_its_approvals_is_their_witness_whatever_its_outcome(trail: AuditTrail) -> None:
    applied(trail, "op-ok", ["appr-1"], Status.SUCCEEDED, approvers=["bob"])
    applied(trail, "op-failed", ["appr-2"], Status.FAILED, approvers=["bob"])
    found = used_on_record(trail, preview(), ["appr-1", "appr-2", "appr-3"])
    assert found == {"appr-1": "op-ok", "appr-2": "op-failed"}


def test_an_apply_refused_before_it_used_its_approvals_leaves_them_unused(trail: AuditTrail) -> None:
    applied(trail, "op-stale", ["appr-1"], Status.REFUSED)
    assert used_on_record(trail, preview(), ["appr-1"]) == {}


def test_uses_before_the_preview_started_are_not_read(trail: AuditTrail) -> None:
    applied(trail, "op-old", ["appr-1"], Status.SUCCEEDED, approvers=["bob"])
    assert used_on_record(trail, preview(audit_seq=3), ["appr-1"]) == {}


def test_a_use_erased_from_the_records_is_refused_not_believed(trail: AuditTrail) -> None:
    applied(trail, "op-ok", ["appr-1"], Status.SUCCEEDED, approvers=["bob"])
    applied(trail, "op-later", ["appr-9"], Status.SUCCEEDED, approvers=["bob"])
    trail.store.raw("UPDATE records SET data = replace(data, 'appr-1', 'appr-0') WHERE seq = 2")  # type: ignore[attr-defined]
    with pytest.raises(AuditUnavailable):
        used_on_record(trail, preview(), ["appr-1"])


@pytest.mark.parametrize(
    ("tool", "status", "summary", "writes"),
    [
        ("up", Status.SUCCEEDED, {"approvers": ["bob"]}, True),
        ("destroy", Status.FAILED, {"approvers": ["bob"]}, True),  # it may have deleted part of the stack
        ("up", Status.REFUSED, {}, False),  # refused before it used its approvals: the CLI never ran
        ("up", Status.REFUSED, {"approvers": ["bob"]}, True),  # refused after it used them: its CLI may have run
        ("up", Status.INTERRUPTED, {}, True),  # its process died: the marked `started` record names no approvers
        ("destroy", Status.INTERRUPTED, {}, True),
        ("refresh", Status.INTERRUPTED, {}, True),
        ("refresh", Status.SUCCEEDED, {}, True),
        ("refresh", Status.FAILED, {}, True),
        ("refresh", Status.REFUSED, {}, False),
        ("check-drift", Status.SUCCEEDED, {}, False),  # a refresh that only looks
        ("preview", Status.SUCCEEDED, {}, False),
    ],
)
def test_which_operations_wrote_the_stack(
    trail: AuditTrail, tool: str, status: Status, summary: dict[str, Any], writes: bool
) -> None:
    applied(trail, "op-1", [], status, tool=tool, **summary)
    assert written_by(trail) == ("op-1" if writes else None)


def test_only_writes_of_the_previews_stack_after_it_started_and_not_by_this_apply_count(trail: AuditTrail) -> None:
    applied(trail, "op-before", [], Status.SUCCEEDED, tool="refresh")  # seq 1, 2: before the preview started
    applied(trail, "op-other", [], Status.SUCCEEDED, tool="refresh", stack="gcp-dev")
    applied(trail, "op-current", ["appr-1"], Status.SUCCEEDED, approvers=["bob"])
    assert written_by(trail, preview(audit_seq=3)) is None
    applied(trail, "op-later", [], Status.SUCCEEDED, tool="refresh")
    assert written_by(trail, preview(audit_seq=3)) == "op-later"
    assert written_by(trail, preview(audit_seq=1)) == "op-before"  # the first one is named
