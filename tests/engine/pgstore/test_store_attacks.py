"""Attacks on the shared store by an agent with a shell, each asserting the safe behaviour: without the database's
credentials (another OS user on a host that runs an engine) and with them (a CI job's environment: rows deleted,
forged or rewritten, leases stolen, the store stalled). What the store cannot refuse on its own (a rewritten audit
tail, a planted preview with an audit record of its own, a deleted single-use row) is refused outside it, by the
anchor, the engine's seal on its previews and the audit trail as a second witness of single use (docs/security.md,
"The shared store")."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.approvals import Approval, ApprovalStore, Method
from engine.audit.postgres import PostgresAuditStore
from engine.console.views import trusted
from engine.errors import ApprovalInvalid, AuditUnavailable, DataMcpError, LeaseLost, StalePreview, StoreUnavailable
from engine.operations import Engine, sessions
from engine.pgstore import previews as pg_previews
from engine.pgstore.approvals import PgApprovalStore
from engine.pgstore.database import Database
from engine.pgstore.importer import import_files
from engine.pgstore.leases import HOST, StackLeases
from engine.pgstore.previews import PgPreviewStore
from engine.pgstore.running import PgRunning
from engine.previews import PreviewRecord
from engine.sandbox.inventory import Inventory
from engine.settings import Settings
from engine.trust.proofs import signed
from engine.vocabulary import Tool
from tests.engine.pgstore.test_shared_records import approval, preview, record

pytestmark = pytest.mark.slow


# --- without the credentials: what another OS user can plant or read --------------------------------------------


@pytest.mark.parametrize("plan_file", ["../notary.key", "/KEY"])
def test_an_imported_preview_brings_no_file_but_its_own_plan_into_the_store(
    db: Database, tmp_path: Path, plan_file: str
) -> None:
    """state/previews/ is 1777: another user plants a preview whose plan_file points at the server's keys; `store
    import` (run by the server's user) must not copy them into rows everyone with the URL reads."""
    state = tmp_path / "state"
    (state / "previews").mkdir(parents=True)
    (state / "plans").mkdir(mode=0o700)
    key = state / "notary.key"
    key.write_bytes(b"PRIVATE-KEY-BYTES")
    planted = preview("prev-0666", plan_file.replace("KEY", str(key).lstrip("/")))
    (state / "previews" / "prev-0666.json").write_text(planted.model_dump_json())
    import_files(state, db, None)
    plans = db.all("SELECT plan FROM previews WHERE plan IS NOT NULL")
    assert not any(b"PRIVATE-KEY" in bytes(p) for (p,) in plans)


def test_a_used_approval_stays_used_when_its_file_comes_back_after_an_import(db: Database, tmp_path: Path) -> None:
    """An approver may remove their own file from the 1777 approvals folder: `store import` must still carry over
    that it was used, so the file put back and imported again never runs a second time."""
    state = tmp_path / "state"
    (state / "consumed").mkdir(parents=True, mode=0o700)
    (state / "consumed" / "appr-0001.used").write_text("op-1")
    import_files(state, db, None)
    ApprovalStore(state / "approvals").save(approval())  # the file is back
    import_files(state, db, None)
    assert PgApprovalStore(db).used("appr-0001")


def test_a_malformed_store_url_never_shows_its_password(caplog: pytest.LogCaptureFixture) -> None:
    """A password with an unescaped `%` or `@`: libpq echoes the token it could not parse (into our message or the
    pool's log), so the password would reach agents' error messages and everyone who reads the logs."""
    caplog.set_level(logging.DEBUG)
    for url in ("postgresql://datamcp:pa%zzhunter2@127.0.0.1:1/db", "postgresql://datamcp:pa@[hunter2@127.0.0.1:1/db"):
        with pytest.raises(StoreUnavailable) as caught:
            Database(url)
        assert "hunter2" not in caught.value.message and "hunter2" not in caplog.text


# --- with the credentials: rows -----------------------------------------------------------------------------------


def stored_plan(db: Database, tmp_path: Path, plan: bytes) -> tuple[PgPreviewStore, PreviewRecord]:
    store = PgPreviewStore(db, tmp_path / "plans")
    store.plan_path("prev-0001").write_bytes(plan)
    store.save(preview("prev-0001", "prev-0001.plan.json"))
    return store, store.get("prev-0001")


def test_an_oversized_plan_row_is_never_loaded(db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A plan grown in the store past what a plan file may be (a memory bomb for every host) counts as missing."""
    monkeypatch.setattr(pg_previews, "MAX_STORE_FILE", 1024)
    store, record_ = stored_plan(db, tmp_path, b'{"plan": 1}')
    db.execute("UPDATE previews SET plan = %s", b"x" * 4096)
    path = store.plan_for(record_)
    assert path is not None and not path.exists()  # the apply then refuses: the saved plan is missing


def test_a_link_or_fifo_in_the_plans_cache_is_replaced_not_followed(db: Database, tmp_path: Path) -> None:
    store, record_ = stored_plan(db, tmp_path, b'{"plan": 1}')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"untouched")
    local = store.plan_path("prev-0001")
    for plant in (lambda: local.symlink_to(elsewhere), lambda: os.mkfifo(local)):
        local.unlink()
        plant()
        path = store.plan_for(record_)
        assert path is not None and not path.is_symlink() and path.read_bytes() == b'{"plan": 1}'
    assert elsewhere.read_bytes() == b"untouched"


def test_a_missing_schema_record_or_a_newer_schema_opens_nothing(db: Database, pg_url: str) -> None:
    """Schema games: the store is refused whole, nothing is migrated again or dropped."""
    db.execute("INSERT INTO approvals_used (approval_id, operation_id) VALUES ('appr-0001', 'op-1')")
    for game in ("DELETE FROM datamcp_schema", "INSERT INTO datamcp_schema (version) VALUES (99)"):
        db.execute(game)
        with pytest.raises(StoreUnavailable):
            Database(pg_url)
        assert db.one("SELECT count(*) FROM approvals_used") == (1,)


# --- with the credentials: leases -------------------------------------------------------------------------------


class Stalled:
    """The holder's view of a store that stopped answering its lease renewals (a black-holed connection that hangs,
    or one that fails at once); other hosts still reach it."""

    def __init__(self, db: Database, hang: bool) -> None:
        self.db, self.hang = db, hang
        self.stopped, self.resumed = threading.Event(), threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)

    def execute(self, sql: str, *args: Any) -> int:
        if self.stopped.is_set() and sql.startswith("UPDATE leases"):
            if self.hang:
                self.resumed.wait(20)
            raise StoreUnavailable("cannot write to the PostgreSQL store: connection lost")
        return self.db.execute(sql, *args)


@pytest.fixture
def other_host(pg_url: str) -> Iterator[Database]:
    database = Database(pg_url)
    yield database
    database.close()


@pytest.mark.parametrize("hang", [True, False], ids=["hangs", "fails"])
def test_a_holder_cut_off_from_the_store_stops_before_another_can_take_its_lease(
    db: Database, other_host: Database, hang: bool
) -> None:
    """The store going down for the holder mid-apply: by the time its lease has expired in the database (and another
    host may take it and run), the holder has already been told (its CLI interrupted) and its fence refuses."""
    stalled = Stalled(db, hang)
    lost = threading.Event()
    holder = StackLeases(stalled, ttl=3)  # type: ignore[arg-type]
    with holder.hold("aws-dev", operation_id="op-cut-off", user="alice", on_lost=lost.set) as old:
        stalled.stopped.set()
        try:
            with StackLeases(other_host, ttl=3).hold("aws-dev", operation_id="op-new", user="bob", wait_seconds=10):
                assert lost.is_set(), "another host holds the lease while the cut-off holder still runs"
                with pytest.raises(LeaseLost):
                    old.check()
        finally:
            stalled.resumed.set()


def test_a_renewal_that_comes_after_the_lease_expired_does_not_bring_it_back(db: Database) -> None:
    """A holder paused past its lease (or a renewal racing a takeover) must learn it lost the lease, not extend a
    lease another host may already have taken."""
    lost = threading.Event()
    with StackLeases(db, ttl=3).hold("aws-dev", operation_id="op-1", user="alice", on_lost=lost.set):
        db.execute("UPDATE leases SET expires_at = now() - interval '1 second'")
        assert lost.wait(3)
        assert db.one("SELECT expires_at > now() FROM leases") == (False,)


def test_two_applies_never_hold_one_stack_when_a_lease_row_is_deleted(db: Database, other_host: Database) -> None:
    """Deleting the holder's row lets another host take the lease at once; the old holder must learn it within a
    renewal and its fence must refuse from then on."""
    lost = threading.Event()
    with StackLeases(db, ttl=3).hold("aws-dev", operation_id="op-1", user="alice", on_lost=lost.set) as old:
        other_host.execute("DELETE FROM leases")
        with StackLeases(other_host, ttl=3).hold("aws-dev", operation_id="op-2", user="bob") as new:
            new.check()
            assert lost.wait(2)
            with pytest.raises(LeaseLost):
                old.check()


def test_a_fencing_token_handed_out_twice_does_not_make_two_holders(db: Database, other_host: Database) -> None:
    """The sequence restarted and the row deleted: the next holder gets the same token number, and the old holder
    must not take the new holder's lease for its own."""
    lost = threading.Event()
    with StackLeases(db, ttl=3).hold("aws-dev", operation_id="op-1", user="alice", on_lost=lost.set) as old:
        other_host.execute(f"ALTER SEQUENCE lease_tokens RESTART WITH {old.token}")  # a token, no input
        other_host.execute("DELETE FROM leases")
        with StackLeases(other_host, ttl=3).hold("aws-dev", operation_id="op-2", user="bob") as new:
            assert new.token == old.token
            assert lost.wait(2)
            with pytest.raises(LeaseLost):
                old.check()
            new.check()


# --- with the credentials: the running registry -------------------------------------------------------------------


def test_deleting_a_live_applys_running_row_does_not_get_it_marked_interrupted(db: Database) -> None:
    """Marked interrupted, a live apply could no longer be cancelled (cancel refuses an operation not `started`)."""
    running = PgRunning(db, ttl=30)
    with StackLeases(db, ttl=30).hold("aws-dev", operation_id="op-live", user="alice"):
        running.register("op-live", "aws-dev")
        db.execute("DELETE FROM running")
        assert running.dead([record("op-live")]) == []
    running.unregister("op-live")


def test_a_restarted_process_with_the_same_host_and_pid_does_not_revive_the_dead_ones_operations(
    db: Database,
) -> None:
    """A container restarted in its pod keeps its host name and pid 1: its heartbeat must not vouch for the
    operations of the process that died."""
    db.execute(
        "INSERT INTO running (operation_id, stack, host, pid, heartbeat) "
        "VALUES ('op-dead', 'aws-dev', %s, %s, now() - interval '1 minute')",
        HOST,
        os.getpid(),
    )
    running = PgRunning(db, ttl=2)
    running.register("op-mine", "aws-dev")
    time.sleep(1.5)  # two heartbeats
    assert [r.id for r in running.dead([record("op-dead"), record("op-mine")])] == ["op-dead"]
    running.unregister("op-mine")


# --- with the credentials: against a real engine ------------------------------------------------------------------

STACK = "gcp-dev"


@pytest.fixture
def engine(sandbox_settings: Settings, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """An engine on the shared store (previews, approvals, leases and the audit trail in PostgreSQL). The program
    digest is taken once: work going on in this checkout must not make a preview stale mid-test (no attack here is
    about the program)."""
    program = sessions.tree_digest(sessions.CODE_ROOT, sessions.PROGRAM_CLOSURE)
    monkeypatch.setattr(sessions, "tree_digest", lambda *_: program)
    anchor = (tmp_path / "anchor.json").as_uri()
    return Engine(
        sandbox_settings.model_copy(update={"store_url": pg_url, "audit_url": pg_url, "audit_anchor_url": anchor})
    )


def cloud(engine: Engine) -> list[dict[str, Any]]:
    return Inventory(engine.settings.sandbox_dir).list("datamcp", STACK)  # type: ignore[arg-type]


def approved(engine: Engine, preview_id: str, by: tuple[str, ...] = ("bob", "carol")) -> list[str]:
    return [engine.approve(preview_id, approver=who).approval_id for who in by]


def refused(engine: Engine, attempt: Callable[[], object]) -> DataMcpError:
    """Run an attack; it must be refused and change nothing in the cloud."""
    try:
        attempt()
    except DataMcpError as refusal:
        assert cloud(engine) == []
        return refusal
    raise AssertionError("the attack went through")


def test_rows_rewritten_with_the_credentials_release_nothing(engine: Engine) -> None:
    """Approval rows relabelled or copied under a new id, a swapped or dropped plan, an edited preview row: each
    apply is refused before the CLI, uses no approval, and the untouched preview still applies afterwards."""
    db: Database = engine.approvals.db  # type: ignore[attr-defined]
    preview_id = engine.preview(STACK, user="alice").preview_id
    bob, carol = approved(engine, preview_id)
    row = db.one("SELECT data, plan FROM previews WHERE preview_id = %s", preview_id)
    assert row is not None
    data, plan = row
    up = lambda ids: lambda: engine.up(STACK, user="alice", preview_id=preview_id, approval_id=ids)  # noqa: E731
    original = engine.approvals.get(bob)
    for forged in (
        original.model_copy(update={"approval_id": "relabelled-0001", "approver": "dave"}),  # a third person
        original.model_copy(update={"approval_id": "copied-0001"}),  # bob's, to be used a second time later
    ):
        data_of = forged.model_dump_json()
        db.execute("INSERT INTO approvals VALUES (%s, %s, %s)", forged.approval_id, preview_id, data_of)
        assert isinstance(refused(engine, up([forged.approval_id, carol])), ApprovalInvalid)
    for tampering, args in (
        ("UPDATE previews SET plan = %s", (b'{"swapped": true}',)),
        ("UPDATE previews SET plan = NULL", ()),
        ("UPDATE previews SET data = replace(data, '\"refresh\":false', '\"refresh\":true')", ()),
    ):
        db.execute(tampering, *args)
        assert isinstance(refused(engine, up([bob, carol])), StalePreview), tampering
        db.execute("UPDATE previews SET data = %s, plan = %s WHERE preview_id = %s", data, plan, preview_id)
    assert not any(engine.approvals.used(i) for i in (bob, carol))
    assert engine.up(STACK, user="alice", preview_id=preview_id, approval_id=[bob, carol]).applied


def test_an_approval_whose_used_row_was_deleted_does_not_run_again(engine: Engine) -> None:
    db: Database = engine.approvals.db  # type: ignore[attr-defined]
    first = engine.preview(STACK, user="alice").preview_id
    ids = approved(engine, first)
    engine.up(STACK, user="alice", preview_id=first, approval_id=ids)
    teardown = engine.destroy(STACK, user="alice").preview
    assert teardown is not None
    teardown_ids = approved(engine, teardown.preview_id)
    engine.destroy(STACK, user="alice", preview_id=teardown.preview_id, approval_id=teardown_ids)
    db.execute("DELETE FROM approvals_used")  # the agent, with the store's URL
    again = refused(engine, lambda: engine.up(STACK, user="alice", preview_id=first, approval_id=ids))
    assert isinstance(again, ApprovalInvalid) and "already used" in again.message


def planted_copy(engine: Engine, pg_url: str) -> str:
    """A copy of a real preview planted in the store, showing no changes but keeping the real plan and digests,
    with an audit record appended that carries its binding (the chain is public arithmetic; the next checkpoint
    signs it). Its id."""
    db: Database = engine.approvals.db  # type: ignore[attr-defined]
    real = engine.previews.get(engine.preview(STACK, user="alice").preview_id)
    planted_id, op_id = str(uuid.uuid4()), str(uuid.uuid4())
    shown = {**real.result, "preview_id": planted_id, "change_summary": {}, "changes": []}
    planted = real.model_copy(
        update={
            "preview_id": planted_id,
            "operation_id": op_id,
            "plan_file": f"{planted_id}.plan.json",
            "change_summary": {},
            "result": shown,
            "property_diffs": {},
        }
    )
    db.execute(
        "INSERT INTO previews SELECT %s, stack, created_epoch, %s, plan FROM previews WHERE preview_id = %s",
        planted_id,
        planted.model_dump_json(),
        real.preview_id,
    )
    recorded = engine.audit.get(real.operation_id)
    assert recorded is not None
    forger = PostgresAuditStore(pg_url)
    summary = {**recorded.summary, "binding": planted.binding()}
    forger.append(recorded.model_copy(update={"id": op_id, "summary": summary}))
    forger.close()
    return planted_id


def test_a_planted_preview_with_a_forged_audit_record_is_neither_approved_nor_applied(
    engine: Engine, pg_url: str
) -> None:
    planted_id = planted_copy(engine, pg_url)
    try:  # people approve what they are shown: nothing
        ids = approved(engine, planted_id)
        engine.up(STACK, user="alice", preview_id=planted_id, approval_id=ids)
    except DataMcpError:
        pass
    assert cloud(engine) == []


def test_a_planted_preview_approved_where_nobody_could_check_it_is_not_applied(engine: Engine, pg_url: str) -> None:
    """Approvers who keep an audit trail and key of their own cannot tell a planted preview; the apply can."""
    planted_id = planted_copy(engine, pg_url)
    preview_ = engine.previews.get(planted_id)
    signer = engine.parts.trust.dev_signer
    assert signer is not None
    ids = []
    for who in ("bob", "carol"):
        draft = Approval(
            preview_id=planted_id,
            kind=preview_.kind,
            stack=preview_.stack,
            binding=preview_.binding(),
            approver=who,
            requested_by=preview_.user,
            expires_epoch=preview_.expires_epoch,
            method=Method.DEV,
        )
        ids.append(engine.approvals.save(signed(draft, signer)).approval_id)
    up = lambda: engine.up(STACK, user="alice", preview_id=planted_id, approval_id=ids)  # noqa: E731
    assert isinstance(refused(engine, up), StalePreview)


def test_a_planted_preview_is_never_put_before_reviewers(engine: Engine, pg_url: str) -> None:
    planted_id = planted_copy(engine, pg_url)
    with pytest.raises(StalePreview):
        engine.request_apply(planted_id, user="alice", reason="please approve")
    assert not engine.review(planted_id).recorded
    assert not trusted(engine, engine.previews.get(planted_id))  # the console neither lists nor offers it


def test_an_audit_tail_rewritten_to_the_same_length_is_found(engine: Engine, pg_url: str) -> None:
    journal = engine.parts.journal
    for who in ("alice", "mallory"):
        with journal.operation(Tool.REQUEST_APPLY, STACK, who, {"reason": f"by {who}"}):
            pass
    forger = PostgresAuditStore(pg_url)
    kept = [r for r in forger.records() if r.user != "mallory"]
    forger.raw("DELETE FROM records WHERE seq > %s", kept[-1].seq)
    forger.raw("DELETE FROM checkpoints WHERE seq > %s", kept[-1].seq)
    forger.raw("DELETE FROM operations WHERE \"user\" = 'mallory'")
    for r in kept[-2:]:  # the same number of records, innocent ones
        forger.append(r.model_copy(update={"id": "6b1efc4d-a4c2-4fe9-917c-664695dc04b9"}))
    forger.close()
    try:
        with journal.operation(Tool.REQUEST_APPLY, STACK, "alice", {"reason": "later"}):
            pass
    except AuditUnavailable:
        return  # the rewrite stopped the next operation: found
    assert not engine.audit.verify().ok
