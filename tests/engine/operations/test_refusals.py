"""Refused attempts are on record, short, and bounded: a flood from one caller becomes a count, not a flood."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.catalog import CatalogEntry
from engine.errors import InvalidInput, StackNotFound
from engine.operations import Engine
from engine.operations import refusals as refusals_module
from engine.settings import Settings


class OneStack:
    project = "datamcp"

    def names(self) -> list[str]:
        return ["lab"]

    def entry(self, name: str) -> CatalogEntry:
        return CatalogEntry(name, "aws", "dev", "a lab stack", {})

    def program(self) -> Callable[[], None]:
        raise AssertionError("no program runs here")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return Engine(Settings(project_root=tmp_path, state_dir=tmp_path / "state"), catalog=OneStack())


def refused(engine: Engine) -> list[object]:
    return [r for r in engine.list_operations(limit=1000).items if r.status == "refused"]


def test_bad_input_to_a_mutating_operation_leaves_one_short_record(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        engine.preview("x" * 10_000, user="alice")
    (record,) = refused(engine)
    assert record.tool == "preview" and record.user == "alice"  # type: ignore[attr-defined]
    assert len(record.stack) <= 100 and len(record.model_dump_json()) < 2_000  # type: ignore[attr-defined]


def test_an_unknown_stack_and_an_unknown_preview_are_recorded(engine: Engine) -> None:
    with pytest.raises(StackNotFound):
        engine.refresh("aws-dev", user="alice")
    with pytest.raises(InvalidInput):
        engine.up("lab", user="alice", preview_id="no-such-preview", approval_id="0" * 8)
    assert [r.tool for r in refused(engine)] == ["up", "check-drift"]  # type: ignore[attr-defined]


def test_a_flood_of_refusals_is_bounded_and_counted(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(50):
        with pytest.raises(InvalidInput):
            engine.preview("../etc", user="mallory")
    assert len(refused(engine)) == refusals_module.PER_MINUTE
    later = time.monotonic() + 60
    monkeypatch.setattr(refusals_module.time, "monotonic", lambda: later)
    with pytest.raises(InvalidInput):
        engine.preview("../etc", user="mallory")
    newest = refused(engine)[0]
    assert newest.summary == {"suppressed_before": 50 - refusals_module.PER_MINUTE}  # type: ignore[attr-defined]


def test_one_callers_flood_does_not_silence_another(engine: Engine) -> None:
    for _ in range(30):
        with pytest.raises(InvalidInput):
            engine.preview("../etc", user="mallory")
    with pytest.raises(InvalidInput):
        engine.preview("../etc", user="alice")
    assert refused(engine)[0].user == "alice"  # type: ignore[attr-defined]
