"""`datamcp ops verify [--full]`: which verify ran, from which record, and what an edit before or after its start
shows."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from engine.audit import OperationRecord, now
from engine.cli import EXIT_FAILED, EXIT_OK
from engine.settings import Settings
from engine.vocabulary import Status
from tests.engine.test_cli import cli  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


def operations(settings: Settings, *ids: str) -> None:
    from engine.operations import Engine

    trail = Engine(settings).audit
    for op_id in ids:
        started = OperationRecord(id=op_id, user="alice", tool="up", stack="gcp-dev", status="started", start_ts=now())
        trail.append(started)
        trail.append(started.model_copy(update={"status": Status.SUCCEEDED, "end_ts": now()}))


def edit_record(settings: Settings, seq: int) -> None:
    db = sqlite3.connect(Path(settings.audit_url.removeprefix("sqlite://")), isolation_level=None)
    data = db.execute("SELECT data FROM records WHERE seq = ?", (seq,)).fetchone()[0]
    db.execute("UPDATE records SET data = ? WHERE seq = ?", (data.replace('"alice"', '"mallory"'), seq))


def test_ops_verify_says_which_verify_it_ran_and_from_where(cli, sandbox_settings: Settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    operations(sandbox_settings, "op-1", "op-2")
    code, out, _ = cli("ops", "verify")
    assert code == EXIT_OK and "intact" in out
    assert "verify:      full: records 1-4 checked (no earlier full verify on record)" in out
    operations(sandbox_settings, "op-3")
    code, out, _ = cli("ops", "verify")
    assert code == EXIT_OK and "verify:      incremental: records 5-6 checked, 1-4 found intact by the full" in out
    code, out, _ = cli("ops", "verify", "--json")
    report = json.loads(out)
    assert (report["scope"], report["checked_from"], report["records_checked"], report["records"]) == (
        "incremental",
        5,
        2,
        6,
    )
    code, out, _ = cli("ops", "verify", "--full")
    assert code == EXIT_OK and "verify:      full: records 1-6 checked\n" in out


def test_an_edit_before_the_start_shows_in_ops_verify_full(cli, sandbox_settings: Settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    operations(sandbox_settings, "op-1", "op-2")
    assert cli("ops", "verify")[0] == EXIT_OK
    operations(sandbox_settings, "op-3")
    edit_record(sandbox_settings, 1)
    edit_record(sandbox_settings, 5)
    code, out, _ = cli("ops", "verify")
    assert code == EXIT_FAILED and "TAMPERED" in out
    assert "record 5 (op-3): content does not match its hash (edited)" in out and "record 1 " not in out
    code, out, _ = cli("ops", "verify", "--full")
    assert code == EXIT_FAILED and "record 1 (op-1): content does not match its hash (edited)" in out
