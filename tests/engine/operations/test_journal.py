"""The journal's rules: no started record, no operation; a final record the store cannot take is kept and the error
names what really happened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.audit import OperationRecord
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Notary
from engine.audit.spool import Spool
from engine.audit.sqlite import SqliteAuditStore
from engine.audit.trail import AuditTrail
from engine.errors import AuditUnavailable
from engine.operations.context import HOST
from engine.operations.journal import Journal
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status


class FillsUp(SqliteAuditStore):
    """A store whose disk fills up after the started records are written."""

    full = False

    def append(self, record: OperationRecord, attachment: str | None = None) -> OperationRecord:
        if self.full and record.status != Status.STARTED:
            raise AuditUnavailable("cannot write the audit record: database or disk is full")
        return super().append(record, attachment)


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    store = FillsUp(tmp_path / "audit.db")
    notary = Notary(ServerKey.generate(tmp_path / "notary.key"))
    return Journal(AuditTrail(store, notary, FileAnchor(tmp_path / "anchor.json"), Spool(tmp_path / "spool")))


def test_a_finished_operation_whose_record_cannot_be_written_says_what_really_happened(journal: Journal) -> None:
    journal.audit.store.full = True  # type: ignore[attr-defined]
    with pytest.raises(AuditUnavailable) as raised, journal.operation("up", "aws-dev", "alice", {}) as op:
        pass  # the change happened
    assert "succeeded" in raised.value.message and "disk is full" in raised.value.message
    assert [s.record.id for _, s in journal.audit.spool.pending()] == [op.id]
    assert journal.audit.get(op.id).status == "started"  # type: ignore[union-attr]

    journal.audit.store.full = False  # type: ignore[attr-defined]
    with journal.operation("preview", "aws-dev", "alice", {}):
        pass
    assert journal.audit.get(op.id).status == "succeeded"  # type: ignore[union-attr]
    assert journal.audit.verify().ok


def test_a_failed_operation_keeps_its_own_error_when_its_record_waits(journal: Journal) -> None:
    journal.audit.store.full = True  # type: ignore[attr-defined]

    class Boom(Exception):
        pass

    with pytest.raises(Boom), journal.operation("up", "aws-dev", "alice", {}):
        raise Boom("the real failure")
    assert journal.audit.spool.pending()[0][1].record.status == "failed"


def test_no_started_record_no_operation(journal: Journal, tmp_path: Path) -> None:
    ran: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> OperationRecord:
        raise AuditUnavailable("the store is down")

    journal.audit.store.append = refuse  # type: ignore[method-assign]
    with pytest.raises(AuditUnavailable), journal.operation("up", "aws-dev", "alice", {}):
        ran.append("ran")
    assert ran == []


def test_an_engine_starting_on_a_rewritten_chain_marks_nothing_and_an_operation_runs_nothing(
    journal: Journal,
) -> None:
    """The start must still work (verify and reinit need it), but writes nothing onto records the anchor does not
    vouch for; the first operation stops before its started record."""
    ran: list[Any] = []
    with journal.operation("up", "aws-dev", "alice", {}):
        pass
    journal.audit.store.raw("UPDATE records SET hash = 'f' WHERE seq = 2")  # type: ignore[attr-defined]
    orphan = OperationRecord(id="op-dead", user="bob", tool="up", status=Status.STARTED, start_ts="", host=HOST)
    journal.audit.store.append(orphan.model_copy(update={"pid": 2**22 + 1}))  # above any pid_max: a dead process
    assert journal.mark_interrupted() == []
    with pytest.raises(AuditUnavailable, match="rewritten"), journal.operation("up", "aws-dev", "alice", {}):
        ran.append("ran")
    assert ran == [] and journal.audit.store.head()[0] == 3
