from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.audit import OperationRecord, now, open_store
from engine.audit.sqlite import SqliteAuditStore
from engine.errors import AuditUnavailable, InvalidInput


def record(op_id: str, status: str = "started", stack: str = "aws-dev", user: str = "alice") -> OperationRecord:
    return OperationRecord(id=op_id, user=user, tool="up", stack=stack, status=status, start_ts=now())  # type: ignore[arg-type]


def test_append_assigns_sequence_and_chain(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    first = store.append(record("op-1"))
    second = store.append(record("op-1", "succeeded"))
    assert (first.seq, second.seq) == (1, 2)
    assert second.prev_hash == first.hash and first.hash == first.digest()
    assert store.get("op-1").status == "succeeded"  # type: ignore[union-attr]
    assert store.verify().ok


def test_query_filters_and_paginates_latest_state_per_operation(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    for i in range(7):
        store.append(record(f"op-{i}", stack="aws-dev" if i % 2 else "gcp-dev", user="bob" if i < 3 else "alice"))
        if i % 3 == 0:
            store.append(record(f"op-{i}", "failed"))
    assert [r.id for r in store.query(stack="aws-dev").items] == ["op-5", "op-3", "op-1"]
    assert {r.id for r in store.query(user="bob").items} == {"op-0", "op-1", "op-2"}
    assert {r.id for r in store.query(status="failed").items} == {"op-0", "op-3", "op-6"}
    page1 = store.query(limit=4)
    page2 = store.query(limit=4, cursor=page1.next_cursor)
    assert len(page1.items) == 4 and page1.next_cursor and page2.next_cursor is None
    assert {r.id for r in page1.items + page2.items} == {f"op-{i}" for i in range(7)}
    assert [r.id for r in store.running()] and all(r.status == "started" for r in store.running())


def test_records_are_read_by_their_place_in_the_chain(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    for i in range(5):
        store.append(record(f"op-{i}"))
    assert [r.id for r in store.records(2, 3)] == ["op-1", "op-2"] and [r.seq for r in store.records(4)] == [4, 5]
    assert store.records(9, 9) == [] and len(store.records()) == 5


def test_tampering_is_detected(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    for i in range(5):
        store.append(record(f"op-{i}"))
    data = store.raw("SELECT data FROM records WHERE seq = 3")[0][0]
    store.raw("UPDATE records SET data = ? WHERE seq = 3", data.replace('"alice"', '"mallory"'))
    report = store.verify()
    assert not report.ok and any("record 3" in p and "edited" in p for p in report.problems)


def test_deleting_a_record_breaks_the_chain(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    for i in range(4):
        store.append(record(f"op-{i}"))
    store.raw("DELETE FROM records WHERE seq = 2")
    report = store.verify()
    assert not report.ok and any("missing" in p or "prev_hash" in p for p in report.problems)


WORKER = """
import sys
from engine.audit import OperationRecord, now
from engine.audit.sqlite import SqliteAuditStore
store = SqliteAuditStore(sys.argv[1])
for i in range(25):
    store.append(OperationRecord(id=f"w{sys.argv[2]}-{i}", user="u", tool="up", status="started", start_ts=now()))
"""


def test_several_processes_append_to_one_linear_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.db")
    SqliteAuditStore(path)
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, path, str(w)]) for w in range(3)]
    assert [w.wait(timeout=120) for w in workers] == [0, 0, 0]
    report = SqliteAuditStore(path).verify()
    assert report.ok and report.records == 75


def test_an_unopenable_store_is_a_typed_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AuditUnavailable):
        open_store(f"sqlite:///{blocker}/audit.db")
    with pytest.raises(AuditUnavailable):
        open_store("mysql://nope")


def test_query_by_time_range(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    for i, ts in enumerate(["2026-01-01T00:00:00", "2026-02-01T00:00:00", "2026-03-01T00:00:00"]):
        store.append(OperationRecord(id=f"op-{i}", user="u", tool="up", status="started", start_ts=ts))
    ids = [r.id for r in store.query(since="2026-01-15T00:00:00", until="2026-03-01T00:00:00").items]
    assert ids == ["op-1"]
    assert [r.id for r in store.query(since="2026-02-01T00:00:00").items] == ["op-2", "op-1"]


@pytest.mark.parametrize("cursor", ["garbage", "-3", "0", " 4", "4.0", "", "9" * 40, "x" * 5000])
def test_a_cursor_the_store_never_handed_out_is_invalid_input(tmp_path: Path, cursor: str) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    store.append(record("op-1"))
    with pytest.raises(InvalidInput) as info:
        store.query(cursor=cursor)
    assert "cursor" in info.value.message and len(info.value.message) < 300


@pytest.mark.parametrize("limit", [0, -1, 1001, 10**12, True])
def test_a_page_size_outside_1_to_1000_is_invalid_input(tmp_path: Path, limit: int) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    with pytest.raises(InvalidInput) as info:
        store.query(limit=limit)
    assert "limit must be a whole number from 1 to 1000" in info.value.message


def test_the_cursor_it_hands_out_still_works_at_the_page_size_bounds(tmp_path: Path) -> None:
    store = SqliteAuditStore(tmp_path / "audit.db")
    for i in range(3):
        store.append(record(f"op-{i}"))
    first = store.query(limit=1)
    assert first.next_cursor is not None
    assert [r.id for r in store.query(limit=1000, cursor=first.next_cursor).items] == ["op-1", "op-0"]
