"""Tampering with the audit trail as someone with file access would: every edit, rechain, truncation or swap of the
database is found by `verify`, and a lost store stops every operation until an admin restarts the chain on record.
Edits that leave the chain's hashes as they were, made before the last full verify's mark (the fixture's verify),
are found by a full verify (tests/engine/audit/test_incremental_verify.py shows what an incremental one finds)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from engine.audit import GENESIS, OperationRecord, now
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Notary
from engine.audit.spool import Spool
from engine.audit.sqlite import SqliteAuditStore
from engine.audit.trail import AuditTrail
from engine.errors import AuditUnavailable
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status


@pytest.fixture
def key(tmp_path: Path) -> ServerKey:
    return ServerKey.generate(tmp_path / "notary.key")


def trail_at(tmp_path: Path, key: ServerKey, db: str = "audit.db") -> AuditTrail:
    store = SqliteAuditStore(tmp_path / "state" / db)
    return AuditTrail(store, Notary(key), FileAnchor(tmp_path / "anchor" / "a.json"), Spool(tmp_path / "spool"))


def operation(trail: AuditTrail, op_id: str, *, user: str = "alice", attachment: str | None = None) -> None:
    started = OperationRecord(id=op_id, user=user, tool="up", stack="aws-dev", status="started", start_ts=now())
    trail.append(started)
    trail.append(started.model_copy(update={"status": Status.SUCCEEDED, "end_ts": now()}), attachment)


@pytest.fixture
def trail(tmp_path: Path, key: ServerKey) -> AuditTrail:
    trail = trail_at(tmp_path, key)
    for i in range(4):
        operation(trail, f"op-{i}", attachment="x" * 20 if i == 2 else None)
    assert trail.verify().ok
    return trail


def db(trail: AuditTrail) -> sqlite3.Connection:
    return sqlite3.connect(trail.store.path, isolation_level=None)  # type: ignore[attr-defined]


def rechain(trail: AuditTrail, change: Any) -> None:
    """Rewrite the records (edited or some removed by `change`) and recompute every hash, as an attacker would."""
    conn = db(trail)
    records = [OperationRecord.model_validate_json(r[0]) for r in conn.execute("SELECT data FROM records ORDER BY seq")]
    records = change(records)
    conn.execute("DELETE FROM records")
    prev = GENESIS
    for seq, record in enumerate(records, start=1):
        record = record.model_copy(update={"seq": seq, "prev_hash": prev, "hash": ""})
        record = record.model_copy(update={"hash": record.digest()})
        conn.execute("INSERT INTO records VALUES (?, ?, ?, ?)", (seq, record.id, record.model_dump_json(), record.hash))
        prev = record.hash
    conn.execute("DELETE FROM operations WHERE op_id NOT IN (SELECT op_id FROM records)")
    conn.execute("UPDATE operations SET seq = (SELECT max(seq) FROM records r WHERE r.op_id = operations.op_id)")


def test_an_edited_and_rechained_record_fails_the_checkpoints(trail: AuditTrail) -> None:
    rechain(trail, lambda rs: [r.model_copy(update={"user": "mallory"}) if r.seq == 3 else r for r in rs])
    report = trail.verify()
    assert not report.ok and any("no longer ends in the signed hash" in p for p in report.problems)
    assert report.anchor.status == "mismatch"


def test_an_erased_and_rechained_operation_fails_the_checkpoints(trail: AuditTrail) -> None:
    rechain(trail, lambda rs: [r for r in rs if r.id != "op-1"])
    report = trail.verify()
    assert not report.ok and report.anchor.status in ("behind", "mismatch")


def test_a_rechained_store_with_its_checkpoints_removed_is_still_found(trail: AuditTrail) -> None:
    rechain(trail, lambda rs: [r.model_copy(update={"status": Status.FAILED}) if r.seq == 8 else r for r in rs])
    db(trail).execute("DELETE FROM checkpoints")
    report = trail.verify()
    assert not report.ok and report.checkpoints == 0
    assert any("after the last signed checkpoint" in p for p in report.problems)


def test_a_forged_checkpoint_does_not_verify(trail: AuditTrail, tmp_path: Path) -> None:
    other = Notary(ServerKey.generate(tmp_path / "other.key"))
    _, head = trail.store.head()
    forged = other.sign(trail.store.checkpoints()[-1].model_copy(update={"hash": head}))
    trail.store.put_checkpoint(forged)
    assert any("not this server's key" in p for p in trail.verify().problems)


def test_editing_the_operations_index_is_found(trail: AuditTrail) -> None:
    db(trail).execute("UPDATE operations SET user = 'nobody', status = 'failed' WHERE op_id = 'op-1'")
    report = trail.verify(full=True)
    assert not report.ok and any("op-1: the query index disagrees" in p for p in report.problems)


def test_pointing_the_index_at_another_record_is_found(trail: AuditTrail) -> None:
    db(trail).execute("UPDATE operations SET seq = 2 WHERE op_id = 'op-3'")
    assert any("op-3" in p for p in trail.verify(full=True).problems)


def test_editing_an_attachment_is_found(trail: AuditTrail) -> None:
    db(trail).execute("UPDATE attachments SET text = 'y' WHERE op_id = 'op-2'")
    assert any("op-2): its attachment" in p for p in trail.verify(full=True).problems)


def test_truncating_the_newest_records_is_found(trail: AuditTrail) -> None:
    db(trail).execute("DELETE FROM records WHERE seq > 6")
    db(trail).execute("DELETE FROM checkpoints WHERE seq > 6")
    report = trail.verify()
    assert not report.ok and report.anchor.status == "behind"


def test_a_replaced_empty_database_stops_every_operation_until_a_recorded_restart(
    trail: AuditTrail, tmp_path: Path, key: ServerKey
) -> None:
    path: Path = trail.store.path  # type: ignore[attr-defined]
    path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    fresh = trail_at(tmp_path, key)
    with pytest.raises(AuditUnavailable, match="vouches for 8"):
        fresh.check_continuity()
    report = fresh.verify()
    assert not report.ok and report.records == 0 and report.anchor.status == "behind"
    fresh.reinit("the disk holding the audit DB died; restored nothing", admin="eve")
    fresh.check_continuity()
    restarted = fresh.verify()
    assert restarted.ok and restarted.records == 1
    assert fresh.store.records()[0].tool == "audit-reinit" and fresh.store.records()[0].user == "eve"


def test_records_rewritten_to_the_same_length_stop_every_operation_until_a_recorded_restart(
    trail: AuditTrail,
) -> None:
    """Checkpoints deleted, the newest operation's records replaced by innocent ones, rechained, the count kept: the
    anchored record is not the one the anchor signed, so nothing is written (or signed) onto the rewrite."""
    rechain(trail, lambda rs: rs[:-2] + [r.model_copy(update={"id": "op-innocent"}) for r in rs[-2:]])
    db(trail).execute("DELETE FROM checkpoints WHERE seq > 6")
    with pytest.raises(AuditUnavailable, match=r"audit record 8 is not the one its anchor .* rewritten"):
        operation(trail, "op-next")
    assert trail.store.head()[0] == 8 and trail.anchor.read().seq == 8  # type: ignore[union-attr]
    trail.reinit("records after 6 were rewritten; restarting on record", admin="eve")
    operation(trail, "op-next")


def test_records_below_the_anchor_are_read_only_as_the_anchor_vouches_for_them(trail: AuditTrail) -> None:
    assert [r.seq for r in trail.anchored_records(5)] == [5, 6, 7, 8] and trail.anchored_records(9) == []
    data = db(trail).execute("SELECT data FROM records WHERE seq = 6").fetchone()[0]
    db(trail).execute("UPDATE records SET data = ? WHERE seq = 6", (data.replace('"alice"', '"mallory"'),))
    trail.check_continuity()  # the anchored record itself is untouched ...
    with pytest.raises(AuditUnavailable, match="no longer chain up to the anchored record"):
        trail.anchored_records(5)  # ... but the records below it no longer lead up to it
    assert [r.seq for r in trail.anchored_records(7)] == [7, 8]


def test_a_database_removed_while_in_use_takes_no_more_writes(trail: AuditTrail) -> None:
    path: Path = trail.store.path  # type: ignore[attr-defined]
    shutil.move(path, path.with_suffix(".moved"))
    with pytest.raises(AuditUnavailable, match="removed while in use"):
        operation(trail, "op-late")


def test_a_record_the_store_refuses_waits_in_the_spool_and_is_written_later(trail: AuditTrail) -> None:
    final = OperationRecord(id="op-s", user="alice", tool="up", stack="aws-dev", status="succeeded", start_ts=now())
    real = trail.store.append

    def full_disk(*args: Any, **kwargs: Any) -> OperationRecord:
        raise AuditUnavailable("cannot write the audit record: database or disk is full")

    trail.store.append = full_disk  # type: ignore[method-assign]
    unwritten = trail.append_or_spool(final)
    assert unwritten is not None and "disk is full" in unwritten and "waits in" in unwritten
    assert [s.record.id for _, s in trail.spool.pending()] == ["op-s"]
    trail.store.append = real  # type: ignore[method-assign]
    operation(trail, "op-next")
    assert trail.get("op-s").status == "succeeded"  # type: ignore[union-attr]
    assert trail.spool.pending() == [] and trail.verify().ok


def test_verify_reports_records_checkpoints_and_the_anchor(trail: AuditTrail) -> None:
    report = json.loads(trail.verify(full=True).model_dump_json())
    assert report["records"] == 8 and report["checkpoints"] >= 4 and report["last_checkpoint"] == 8
    assert report["anchor"]["status"] == "match" and report["anchor"]["seq"] == 8
    assert (report["scope"], report["checked_from"], report["records_checked"]) == ("full", 1, 8)
