"""Incremental verify: it starts at the mark of the last full verify (signed, beside the anchor) and checks every
record after it; an attacker who can write the database but has no key can neither move that start nor hide an edit
after it, and an edit before it is found by the next full verify."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.audit import now
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Notary, VerifiedMark
from engine.audit.trail import AuditTrail, VerifyScope
from engine.trust.server_key import ServerKey
from tests.engine.audit.test_tamper import db, operation, rechain, trail_at


@pytest.fixture
def key(tmp_path: Path) -> ServerKey:
    return ServerKey.generate(tmp_path / "notary.key")


@pytest.fixture
def trail(tmp_path: Path, key: ServerKey) -> AuditTrail:
    """Four operations (records 1-8), verified in full (the mark at record 8), then two more (records 9-12)."""
    trail = trail_at(tmp_path, key)
    for i in range(4):
        operation(trail, f"op-{i}", attachment="x" * 20 if i == 2 else None)
    assert trail.verify(full=True).ok
    for i in range(4, 6):
        operation(trail, f"op-{i}", attachment="x" * 20 if i == 5 else None)
    return trail


def edit_record(trail: AuditTrail, seq: int) -> None:
    """Change a record's content and leave its hashes as they were (no rechain)."""
    data = db(trail).execute("SELECT data FROM records WHERE seq = ?", (seq,)).fetchone()[0]
    db(trail).execute("UPDATE records SET data = ? WHERE seq = ?", (data.replace('"alice"', '"mallory"'), seq))


def mark_of(trail: AuditTrail) -> VerifiedMark | None:
    return trail.anchor.read_mark()


def test_the_first_verify_is_a_full_one_and_leaves_its_mark_beside_the_anchor(tmp_path: Path, key: ServerKey) -> None:
    trail = trail_at(tmp_path, key)
    operation(trail, "op-0")
    report = trail.verify()
    assert (report.scope, report.checked_from, report.records_checked) == (VerifyScope.FULL, 1, 2)
    assert report.scope_note == "no earlier full verify on record"
    mark = mark_of(trail)
    assert mark is not None and (mark.seq, mark.hash) == (2, trail.store.head()[1])
    assert isinstance(trail.anchor, FileAnchor) and trail.anchor.mark_path.parent == trail.anchor.path.parent
    assert trail.notary.mark_problem(mark) is None


def test_a_verify_checks_the_records_after_the_last_full_verify(trail: AuditTrail) -> None:
    report = trail.verify()
    assert report.ok and report.scope == VerifyScope.INCREMENTAL
    assert (report.checked_from, report.records_checked, report.records) == (9, 4, 12)
    assert report.full_verified_at == mark_of(trail).verified_at  # type: ignore[union-attr]
    assert report.last_checkpoint == 12 and report.anchor.status == "match"


def test_an_incremental_verify_does_not_move_the_start(trail: AuditTrail) -> None:
    trail.verify()
    operation(trail, "op-6")
    assert (trail.verify().checked_from, mark_of(trail).seq) == (9, 8)  # type: ignore[union-attr]


def test_an_edit_after_the_start_is_found_by_an_incremental_verify(trail: AuditTrail) -> None:
    edit_record(trail, 9)
    report = trail.verify()
    assert report.scope == VerifyScope.INCREMENTAL
    assert report.problems == ["record 9 (op-4): content does not match its hash (edited)"]


def test_index_rows_and_attachments_after_the_start_are_checked(trail: AuditTrail) -> None:
    db(trail).execute("UPDATE operations SET status = 'failed' WHERE op_id = 'op-4'")
    db(trail).execute("UPDATE operations SET seq = 11 WHERE op_id = 'op-0'")  # an old operation pointed past the start
    db(trail).execute("UPDATE attachments SET text = 'y' WHERE op_id = 'op-5'")
    report = trail.verify()
    assert report.scope == VerifyScope.INCREMENTAL
    assert report.problems == [
        "operation op-4: the query index disagrees with record 10",
        "operation op-0: in the query index but in no record",
        "record 12 (op-5): its attachment is missing or was edited",
    ]


def test_an_edit_before_the_start_is_found_by_the_next_full_verify_and_every_verify_after(trail: AuditTrail) -> None:
    edit_record(trail, 3)
    assert trail.verify().ok  # records up to the mark are trusted as of the full verify that left it
    full = trail.verify(full=True)
    assert full.scope == VerifyScope.FULL and full.problems == [
        "record 3 (op-1): content does not match its hash (edited)"
    ]
    assert mark_of(trail) is None  # withdrawn: the findings are not hidden behind a start after them
    again = trail.verify()
    assert again.scope == VerifyScope.FULL and again.problems == full.problems


def test_a_rechained_store_is_verified_in_full_from_the_start(trail: AuditTrail) -> None:
    """Records before the start edited and every hash recomputed: the record at the mark has another hash."""
    rechain(trail, lambda rs: [r.model_copy(update={"user": "mallory"}) if r.seq == 3 else r for r in rs])
    report = trail.verify()
    assert report.scope == VerifyScope.FULL
    assert report.scope_note == "record 8 is no longer the one the last full verify found"
    assert not report.ok and any("no longer ends in the signed hash" in p for p in report.problems)


def test_the_record_at_the_start_edited_without_rechaining_is_verified_in_full(trail: AuditTrail) -> None:
    edit_record(trail, 8)
    report = trail.verify()
    assert report.scope == VerifyScope.FULL and not report.ok
    assert "record 8 (op-3): content does not match its hash (edited)" in report.problems


def test_a_mark_signed_by_another_key_is_no_start(trail: AuditTrail, tmp_path: Path) -> None:
    other = Notary(ServerKey.generate(tmp_path / "other.key"))
    seq, head = trail.store.head()
    trail.anchor.write_mark(other.sign_mark(VerifiedMark(seq=seq, hash=head, verified_at=now(), key_id="")))
    report = trail.verify()
    assert report.scope == VerifyScope.FULL and report.ok
    assert report.scope_note.endswith("not this server's key")


def test_a_mark_moved_forward_without_the_key_is_no_start_and_is_reported(trail: AuditTrail) -> None:
    """An attacker who edited record 9 moves the mark past it: the signature no longer verifies."""
    edit_record(trail, 9)
    mark = mark_of(trail)
    assert mark is not None
    seq, head = trail.store.head()
    trail.anchor.write_mark(mark.model_copy(update={"seq": seq, "hash": head}))
    report = trail.verify()
    assert report.scope == VerifyScope.FULL
    assert report.problems == [
        "the last full verify's mark: the signature does not verify (altered or forged)",
        "record 9 (op-4): content does not match its hash (edited)",
    ]


def test_a_checkpoints_signature_is_no_mark(trail: AuditTrail) -> None:
    """Marks and checkpoints are signed by the same key over different payloads: a genuine checkpoint's signature
    copied into a mark does not make it a start."""
    checkpoint = trail.store.checkpoints()[-1]
    forged = VerifiedMark(
        seq=checkpoint.seq, hash=checkpoint.hash, verified_at=checkpoint.signed_at, key_id=checkpoint.key_id
    )
    trail.anchor.write_mark(forged.model_copy(update={"signature": checkpoint.signature}))
    assert trail.verify().scope == VerifyScope.FULL


def test_a_forged_checkpoint_is_never_a_start(trail: AuditTrail, tmp_path: Path) -> None:
    """Records after the start rewritten, rechained and checkpointed with another key: the incremental verify reports
    the forged checkpoint and its records, and a full verify leaves no mark at it."""
    other = Notary(ServerKey.generate(tmp_path / "other.key"))
    rechain(trail, lambda rs: [r.model_copy(update={"user": "mallory"}) if r.seq == 11 else r for r in rs])
    seq, head = trail.store.head()
    forged = other.sign(trail.store.checkpoints()[-1].model_copy(update={"seq": seq, "hash": head}))
    trail.store.put_checkpoint(forged)
    report = trail.verify()
    assert report.scope == VerifyScope.INCREMENTAL and report.checked_from == 9
    assert f"checkpoint at record {seq} is signed by {other.key_id}, not this server's key" in report.problems
    assert not trail.verify(full=True).ok and mark_of(trail) is None
    assert trail.verify().scope == VerifyScope.FULL


def test_a_deleted_mark_means_a_full_verify(trail: AuditTrail) -> None:
    trail.anchor.write_mark(None)
    report = trail.verify()
    assert report.scope == VerifyScope.FULL and report.ok and report.records_checked == 12
    assert mark_of(trail).seq == 12  # type: ignore[union-attr]


def test_an_unreadable_mark_means_a_full_verify(trail: AuditTrail) -> None:
    assert isinstance(trail.anchor, FileAnchor)
    trail.anchor.mark_path.write_text("{not json")
    assert trail.verify().scope == VerifyScope.FULL


def test_a_truncated_store_is_found_by_an_incremental_verify(trail: AuditTrail) -> None:
    db(trail).execute("DELETE FROM records WHERE seq > 10")
    db(trail).execute("DELETE FROM checkpoints WHERE seq > 10")
    report = trail.verify()
    assert report.scope == VerifyScope.INCREMENTAL and report.anchor.status == "behind"


def test_a_restart_of_the_chain_withdraws_the_mark(trail: AuditTrail) -> None:
    trail.reinit("the store was restored from a backup of last week", admin="eve")
    assert mark_of(trail) is None
    assert trail.verify().scope == VerifyScope.FULL
