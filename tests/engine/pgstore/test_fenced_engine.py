"""The fence end to end: an engine whose stack lease passes to another holder after it was taken does not run its
CLI, burns no approval and changes nothing; the store going down stops operations before they start."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from engine.errors import DataMcpError, LeaseLost
from engine.operations import Engine
from engine.sandbox.inventory import Inventory
from engine.settings import Settings
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.slow
STACK = "gcp-dev"


def approvals(engine: Engine, preview_id: str) -> list[str]:
    return [engine.approve(preview_id, approver=who).approval_id for who in ("bob", "carol")]


def lose_each_lease_once_granted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Another holder takes every lease right after this engine was granted it; the leases, for clean-up."""
    leases, real_hold = engine.parts.locks, engine.parts.locks.hold

    @contextmanager
    def hold_then_lose(stack: str, **kwargs: Any) -> Iterator[Any]:
        with real_hold(stack, **kwargs) as lease:
            leases.db.execute("UPDATE leases SET token = token + 1000 WHERE stack = %s", stack)  # type: ignore[attr-defined]
            yield lease

    monkeypatch.setattr(leases, "hold", hold_then_lose)
    return leases


def test_a_refresh_whose_lease_was_taken_over_runs_no_cli(
    sandbox_settings: Settings, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fence right before the CLI (a refresh uses no approval: nothing else stops it)."""
    engine = Engine(sandbox_settings.model_copy(update={"store_url": pg_url, "audit_url": pg_url}))
    lose_each_lease_once_granted(engine, monkeypatch)
    with pytest.raises(LeaseLost, match="expired or passed to another holder"):
        engine.refresh(STACK, user="alice", preview_only=False)
    refresh = next(r for r in engine.list_operations(limit=20).items if r.tool == "refresh")
    assert refresh.status == "refused" and not refresh.stdout


def test_a_lease_taken_over_after_it_was_granted_stops_the_apply(
    sandbox_settings: Settings, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = Engine(sandbox_settings.model_copy(update={"store_url": pg_url, "audit_url": pg_url}))
    preview_id = engine.preview(STACK, user="alice").preview_id
    ids = approvals(engine, preview_id)
    leases = lose_each_lease_once_granted(engine, monkeypatch)
    with pytest.raises(LeaseLost, match="expired or passed to another holder"):
        engine.up(STACK, user="alice", preview_id=preview_id, approval_id=ids)
    assert Inventory(sandbox_settings.sandbox_dir).list("datamcp", STACK) == []  # type: ignore[arg-type]
    assert not any(engine.approvals.used(i) for i in ids)
    up = next(r for r in engine.list_operations(limit=20).items if r.tool == "up")
    assert up.status == "refused"
    monkeypatch.undo()
    leases.db.execute("DELETE FROM leases")  # type: ignore[attr-defined]  # the other holder is done
    assert engine.up(STACK, user="alice", preview_id=preview_id, approval_id=ids).applied


def test_the_store_going_down_stops_operations_before_they_start(sandbox_settings: Settings) -> None:
    with postgres_cluster() as url:
        engine = Engine(sandbox_settings.model_copy(update={"store_url": url, "audit_url": url}))
        preview_id = engine.preview(STACK, user="alice").preview_id
    for attempt in (
        lambda: engine.preview(STACK, user="alice"),
        lambda: engine.approve(preview_id, approver="bob"),
        lambda: engine.up(STACK, user="alice", preview_id=preview_id, approval_id=["x-1", "x-2"]),
        lambda: engine.cancel("6b1efc4d-a4c2-4fe9-917c-664695dc04b9", user="alice"),
    ):
        with pytest.raises(DataMcpError, match="PostgreSQL store"):
            attempt()
    assert engine.readiness() == {"store": "unavailable", "audit": "unavailable"}
    assert Inventory(sandbox_settings.sandbox_dir).list("datamcp", STACK) == []  # type: ignore[arg-type]
