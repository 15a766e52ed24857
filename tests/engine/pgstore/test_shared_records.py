"""Approvals, previews with their plans, cancel requests and the running registry in a real PostgreSQL."""

from __future__ import annotations

import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.audit import OperationRecord, now
from engine.errors import ApprovalInvalid, PreviewNotFound, StoreUnavailable
from engine.pgstore.approvals import PgApprovalStore
from engine.pgstore.cancel import PgCancelRequests
from engine.pgstore.database import Database
from engine.pgstore.previews import PgPreviewStore
from engine.pgstore.running import PgRunning
from engine.previews import Digests, PreviewRecord
from engine.vocabulary import Status
from tests.engine.test_approvals import approval
from tests.postgres import free_port

pytestmark = pytest.mark.slow


def preview(preview_id: str, plan_file: str | None = None, created: float = 1.0) -> PreviewRecord:
    return PreviewRecord(
        preview_id=preview_id,
        stack="aws-dev",
        user="alice",
        created_at="2026-11-25T00:00:00Z",
        created_epoch=created,
        operation_id="op-1",
        digests=Digests(program="p", config="c", state="s"),
        plan_file=plan_file,
    )


def test_an_approval_is_used_exactly_once_when_many_consume_it_at_once(db: Database) -> None:
    store = PgApprovalStore(db)
    store.save(approval())

    def consume(n: int) -> bool:
        try:
            PgApprovalStore(db).consume("appr-0001", f"op-{n}")
        except ApprovalInvalid:
            return False
        return True

    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(consume, range(16)))
    assert won.count(True) == 1 and store.used("appr-0001")


def test_approvals_are_read_back_checked_and_never_replaced(db: Database) -> None:
    store = PgApprovalStore(db)
    store.save(approval())
    assert store.get("appr-0001").approver == "bob"
    assert [a.approval_id for a in store.for_preview("prev-0001")] == ["appr-0001"]
    with pytest.raises(ApprovalInvalid, match="exists already"):
        store.save(approval().model_copy(update={"approver": "mallory"}))
    with pytest.raises(ApprovalInvalid, match="no approval"):
        store.get("appr-0002")
    with pytest.raises(ApprovalInvalid, match="is not an approval id"):
        store.get("../x")
    db.execute("UPDATE approvals SET data = replace(data, 'appr-0001', 'appr-0009')")
    with pytest.raises(ApprovalInvalid, match="holds another approval"):
        store.get("appr-0001")
    assert store.for_preview("prev-0001") == []


def test_a_preview_and_its_plan_travel_to_another_host(db: Database, tmp_path: Path) -> None:
    host_a, host_b = PgPreviewStore(db, tmp_path / "a" / "plans"), PgPreviewStore(db, tmp_path / "b" / "plans")
    plan = host_a.plan_path("prev-0001")
    plan.write_text('{"plan": 1}')
    host_a.save(preview("prev-0001", plan.name))
    record = host_b.get("prev-0001")
    local = host_b.plan_for(record)
    assert local is not None and local.read_text() == '{"plan": 1}'
    assert local.parent == tmp_path / "b" / "plans" and stat.S_IMODE(local.stat().st_mode) == 0o600
    local.write_text("swapped")  # a local copy that differs is replaced from the store
    assert host_b.plan_for(record).read_text() == '{"plan": 1}'  # type: ignore[union-attr]
    with pytest.raises(PreviewNotFound, match="run a preview first"):
        host_b.get("prev-0002")
    db.execute("INSERT INTO previews VALUES ('prev-0003', 'aws-dev', 9, 'not json', NULL)")
    host_a.save(preview("prev-0004", created=5.0))
    assert [r.preview_id for r in host_b.recent()] == ["prev-0004", "prev-0001"]  # the unreadable row is skipped


def test_cancel_requests_reach_every_host(db: Database) -> None:
    a, b = PgCancelRequests(db), PgCancelRequests(db)
    a.put("op-1", "alice")
    assert b.exists("op-1") and not b.exists("op-2")
    b.clear("op-1")
    assert not a.exists("op-1")


def record(op_id: str) -> OperationRecord:
    return OperationRecord(id=op_id, user="alice", tool="up", status=Status.STARTED, start_ts=now(), host="elsewhere")


def test_the_registry_tells_live_operations_from_dead_ones(db: Database) -> None:
    running = PgRunning(db, ttl=30)
    running.register("op-live", "aws-dev")
    running.register("op-silent", "aws-dev")
    db.execute("UPDATE running SET heartbeat = now() - interval '1 minute' WHERE operation_id = 'op-silent'")
    dead = running.dead([record("op-live"), record("op-silent"), record("op-unknown")])
    assert [r.id for r in dead] == ["op-silent", "op-unknown"]
    running.unregister("op-live")
    assert [r.id for r in running.dead([record("op-live")])] == ["op-live"]


def test_a_store_that_cannot_be_reached_is_a_clear_typed_error() -> None:
    url = f"postgresql://datamcp:hunter2@127.0.0.1:{free_port()}/postgres"
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        Database(url)
    assert time.monotonic() - started < 15
    assert "cannot open the PostgreSQL store at postgresql://127.0.0.1/postgres" in caught.value.message
    assert "hunter2" not in caught.value.message and "datamcp@" not in caught.value.message


def test_an_approval_the_store_lacks_is_never_marked_used(db: Database) -> None:
    store = PgApprovalStore(db)
    with pytest.raises(ApprovalInvalid, match="no approval 'appr-0404'"):
        store.consume("appr-0404", "op-1")
    assert not store.used("appr-0404")


def test_reading_the_schema_version_changes_nothing(pg_url: str) -> None:
    fresh = Database(pg_url, migrated=False)
    try:
        assert fresh.version() == 0
        assert fresh.one("SELECT to_regclass('datamcp_schema')") == (None,)  # doctor without --fix wrote nothing
    finally:
        fresh.close()


def test_a_store_at_the_current_version_opens_under_a_role_that_may_not_change_the_schema(
    db: Database, pg_url: str
) -> None:
    """Servers may run without DDL (docs/deployment.md): opening a migrated store creates nothing."""
    db.execute("CREATE ROLE no_ddl LOGIN")
    db.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    db.execute("GRANT SELECT ON datamcp_schema TO no_ddl")
    server = Database(pg_url.replace("://datamcp@", "://no_ddl@"))
    try:
        assert server.version() == db.version()
    finally:
        server.close()
