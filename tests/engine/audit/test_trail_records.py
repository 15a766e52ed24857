"""The audit trail's own records: when it signs checkpoints, what the spool keeps, the restart record, and the verify
report's exact findings."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.audit import OperationRecord, now
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Checkpoint, Notary
from engine.audit.spool import Spool
from engine.audit.sqlite import SqliteAuditStore
from engine.audit.trail import CHECKPOINT_EVERY, AuditTrail, sha256
from engine.errors import AuditUnavailable
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status

KEY = ServerKey(Ed25519PrivateKey.generate())


@pytest.fixture
def trail(tmp_path: Path) -> AuditTrail:
    store = SqliteAuditStore(tmp_path / "state" / "audit.db")
    return AuditTrail(store, Notary(KEY), FileAnchor(tmp_path / "anchor" / "a.json"), Spool(tmp_path / "spool"))


def started(op_id: str = "op-00001") -> OperationRecord:
    return OperationRecord(id=op_id, user="alice", tool="up", stack="aws-dev", status=Status.STARTED, start_ts=now())


def finished(op_id: str = "op-00001") -> OperationRecord:
    return started(op_id).model_copy(update={"status": Status.SUCCEEDED, "end_ts": now()})


def refuse_writes(trail: AuditTrail) -> Any:
    real = trail.store.append

    def full_disk(*args: Any, **kwargs: Any) -> OperationRecord:
        raise AuditUnavailable("cannot write the audit record: database or disk is full")

    trail.store.append = full_disk  # type: ignore[method-assign]
    return real


# --- checkpoints ----------------------------------------------------------------------------------------------------
def test_a_started_record_alone_is_not_checkpointed(trail: AuditTrail) -> None:
    trail.append(started())
    assert trail.store.checkpoints() == []


def test_a_final_record_is_checkpointed(trail: AuditTrail) -> None:
    trail.append(started())
    trail.append(finished())
    assert [cp.seq for cp in trail.store.checkpoints()] == [2]


def test_every_fiftieth_record_is_checkpointed_even_mid_operation(trail: AuditTrail) -> None:
    for i in range(CHECKPOINT_EVERY):
        trail.append(started(f"op-{i:05d}"))
    assert [cp.seq for cp in trail.store.checkpoints()] == [CHECKPOINT_EVERY]


def test_a_plain_checkpoint_carries_no_note(trail: AuditTrail) -> None:
    trail.append(finished())
    assert trail.store.checkpoints()[-1].note == ""


def test_a_checkpoint_of_a_shorter_chain_never_moves_the_anchor_back(trail: AuditTrail) -> None:
    """A slower writer's checkpoint of an older head (its append came before the anchor moved on)."""
    trail.anchor.write(trail.notary.sign(Checkpoint(seq=5, hash="f" * 64, signed_at=now(), key_id="")))
    trail.store.append(finished())
    trail.checkpoint()
    assert trail.anchor.read().seq == 5  # type: ignore[union-attr]


# --- attachments and the spool --------------------------------------------------------------------------------------
def test_an_attachment_is_kept_and_hashed_into_its_record(trail: AuditTrail) -> None:
    stored = trail.append(finished(), "full output")
    assert (trail.attachment(stored.id), stored.attachment_sha256) == ("full output", sha256("full output"))


def test_a_spooled_record_keeps_its_attachment_until_written(trail: AuditTrail) -> None:
    real = refuse_writes(trail)
    trail.append_or_spool(finished(), "full output")
    trail.store.append = real  # type: ignore[method-assign]
    assert trail.drain() == 1
    assert trail.attachment("op-00001") == "full output"
    assert trail.get("op-00001").attachment_sha256 == sha256("full output")  # type: ignore[union-attr]


def test_draining_writes_every_waiting_record_once_and_counts_them(trail: AuditTrail) -> None:
    real = refuse_writes(trail)
    trail.append_or_spool(finished("op-00001"))
    trail.append_or_spool(finished("op-00002"))
    trail.store.append = real  # type: ignore[method-assign]
    assert (trail.drain(), trail.drain()) == (2, 0)
    assert [r.id for r in trail.store.records()] == ["op-00001", "op-00002"]


def test_a_drained_record_without_attachment_claims_none(trail: AuditTrail) -> None:
    real = refuse_writes(trail)
    trail.append_or_spool(finished())
    trail.store.append = real  # type: ignore[method-assign]
    trail.drain()
    assert trail.get("op-00001").attachment_sha256 is None  # type: ignore[union-attr]


def test_draining_is_checkpointed(trail: AuditTrail) -> None:
    real = refuse_writes(trail)
    trail.append_or_spool(started())
    trail.store.append = real  # type: ignore[method-assign]
    trail.drain()
    assert [cp.seq for cp in trail.store.checkpoints()] == [1]


def test_a_spool_file_another_process_removed_first_does_not_stop_the_drain(trail: AuditTrail) -> None:
    real = refuse_writes(trail)
    trail.append_or_spool(finished())
    trail.store.append = real  # type: ignore[method-assign]
    [(path, _)] = trail.spool.pending()
    original_unlink = Path.unlink

    def already_gone(self: Path, missing_ok: bool = False) -> None:
        if self == path:
            original_unlink(self)  # the other process
        original_unlink(self, missing_ok=missing_ok)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Path, "unlink", already_gone)
        assert trail.drain() == 1


def test_a_record_that_cannot_be_spooled_either_says_both_causes(trail: AuditTrail, tmp_path: Path) -> None:
    refuse_writes(trail)
    (tmp_path / "spool").write_text("a file where the spool folder should be")
    assert trail.append_or_spool(finished()) == (
        "cannot write the audit record: database or disk is full; it could not be spooled either (File exists)"
    )


# --- restart --------------------------------------------------------------------------------------------------------
def test_a_restart_is_recorded_with_the_reason_the_admin_and_the_lost_anchor(trail: AuditTrail) -> None:
    trail.append(finished())
    lost = trail.anchor.read()
    trail.reinit("disk died", admin="eve")
    restart = trail.store.records()[-1]
    assert (restart.tool, restart.user, restart.status, restart.params) == (
        "audit-reinit",
        "eve",
        Status.SUCCEEDED,
        {"reason": "disk died"},
    )
    assert restart.end_ts is not None and restart.summary == {"lost_anchor": lost.model_dump()}  # type: ignore[union-attr]


def test_a_restart_without_an_anchor_records_none_lost(trail: AuditTrail) -> None:
    trail.reinit("first start", admin="eve")
    assert trail.store.records()[-1].summary == {"lost_anchor": None}


def test_a_restart_checkpoint_says_who_restarted_and_why(trail: AuditTrail) -> None:
    assert trail.reinit("disk died", admin="eve").note == "chain restart by eve: disk died"


def test_a_restart_moves_the_anchor_back_to_the_new_chain(trail: AuditTrail) -> None:
    for i in range(3):
        trail.append(finished(f"op-{i:05d}"))
    trail.store.path.unlink()  # type: ignore[attr-defined]
    fresh = AuditTrail(SqliteAuditStore(trail.store.path), trail.notary, trail.anchor, trail.spool)  # type: ignore[attr-defined]
    fresh.reinit("disk died", admin="eve")
    assert fresh.anchor.read().seq == 1  # type: ignore[union-attr]


def test_a_truncated_store_stops_everything_with_a_way_out(trail: AuditTrail, tmp_path: Path) -> None:
    trail.append(finished())
    empty = AuditTrail(SqliteAuditStore(tmp_path / "other.db"), trail.notary, trail.anchor, trail.spool)
    with pytest.raises(AuditUnavailable) as caught:
        empty.check_continuity()
    assert caught.value.message == (
        f"the audit store holds 0 record(s) but its anchor ({trail.anchor.location}) vouches for 1: it was emptied, "
        "truncated or replaced. Every operation refuses until an admin runs `datamcp ops reinit --reason TEXT`, "
        "which records the restart."
    )


# --- the verify report ----------------------------------------------------------------------------------------------
def test_a_fresh_trail_has_no_anchor(trail: AuditTrail) -> None:
    assert trail.verify().anchor.model_dump() == {"location": trail.anchor.location, "seq": None, "status": "absent"}


def test_a_running_operations_start_is_unsigned_but_no_problem(trail: AuditTrail) -> None:
    trail.append(finished("op-00001"))
    trail.append(started("op-00002"))
    report = trail.verify()
    assert (report.ok, report.unsigned_records, report.problems) == (True, 1, [])


def test_a_final_record_after_the_last_checkpoint_is_a_problem(trail: AuditTrail) -> None:
    trail.append(finished("op-00001"))
    trail.store.append(finished("op-00002"))
    assert trail.verify().problems == ["record 2 (up succeeded) is after the last signed checkpoint"]


def test_chain_problems_are_reported_with_the_others(trail: AuditTrail) -> None:
    trail.append(finished())
    edited = trail.store.records()[0].model_copy(update={"user": "mallory"})
    with sqlite3.connect(trail.store.path) as conn:  # type: ignore[attr-defined]
        conn.execute("UPDATE records SET data = ? WHERE seq = 1", (edited.model_dump_json(),))
    assert "record 1 (op-00001): content does not match its hash (edited)" in trail.verify().problems


def test_an_anchor_signed_by_another_key_is_a_mismatch(trail: AuditTrail) -> None:
    trail.append(finished())
    other = Notary(ServerKey(Ed25519PrivateKey.generate()))
    trail.anchor.write(other.sign(Checkpoint(seq=1, hash=trail.store.head()[1], signed_at=now(), key_id="")))
    report = trail.verify()
    assert report.anchor.status == "mismatch"
    assert "the anchor's checkpoint signature does not verify" in report.problems


def test_an_anchor_vouching_for_another_record_is_a_mismatch(trail: AuditTrail) -> None:
    trail.append(finished())
    trail.anchor.write(trail.notary.sign(Checkpoint(seq=1, hash="0" * 64, signed_at=now(), key_id="")))
    report = trail.verify()
    assert report.anchor.status == "mismatch"
    assert "record 1 is not the one the anchor vouches for (rewritten)" in report.problems


def test_an_attachment_written_at_once_is_kept(trail: AuditTrail) -> None:
    assert trail.append_or_spool(finished(), "full output") is None
    assert trail.attachment("op-00001") == "full output"


def test_an_anchored_record_erased_from_the_middle_is_a_mismatch(trail: AuditTrail) -> None:
    for i in range(5):
        trail.append(finished(f"op-{i:05d}"))
    trail.anchor.write(trail.store.checkpoints()[2], restart=True)
    with sqlite3.connect(trail.store.path) as conn:  # type: ignore[attr-defined]
        conn.execute("DELETE FROM records WHERE seq = 3")
    report = trail.verify()
    assert report.anchor.status == "mismatch" and "record 3 is not the one the anchor vouches for (rewritten)" in (
        report.problems
    )
