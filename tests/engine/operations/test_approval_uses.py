"""The audit trail as the second witness of single use: which applies used an approval, read only from records the
anchor vouches for."""

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
from engine.operations.approval_uses import used_on_record
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status
from tests.engine.operations.builders import preview


@pytest.fixture
def trail(tmp_path: Path) -> AuditTrail:
    notary = Notary(ServerKey.generate(tmp_path / "notary.key"))
    store = SqliteAuditStore(tmp_path / "audit.db")
    return AuditTrail(store, notary, FileAnchor(tmp_path / "anchor.json"), Spool(tmp_path / "spool"))


def applied(trail: AuditTrail, op_id: str, ids: list[str], status: Status, **summary: Any) -> None:
    """An apply's started and final records, as the journal writes them."""
    params = {"approval_ids": ids}
    started = OperationRecord(id=op_id, user="alice", tool="up", params=params, status="started", start_ts=now())
    trail.append(started)
    trail.append(started.model_copy(update={"status": status, "end_ts": now(), "summary": summary}))


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
