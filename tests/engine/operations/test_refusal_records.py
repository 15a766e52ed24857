"""What one refused attempt leaves on record, field by field, and how the per-caller budget refills."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from engine.audit import OperationRecord
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Notary
from engine.audit.spool import Spool
from engine.audit.sqlite import SqliteAuditStore
from engine.audit.trail import AuditTrail
from engine.errors import InvalidInput
from engine.operations import refusals
from engine.operations.context import HOST
from engine.operations.refusals import RefusalLog
from engine.trust.server_key import ServerKey


@pytest.fixture
def trail(tmp_path: Path) -> AuditTrail:
    store = SqliteAuditStore(tmp_path / "audit.db")
    notary = Notary(ServerKey(Ed25519PrivateKey.generate()))
    return AuditTrail(store, notary, FileAnchor(tmp_path / "anchor.json"), Spool(tmp_path / "spool"))


def refuse(log: RefusalLog, stack: object = "aws-dev", user: str = "Alice", **params: object) -> None:
    log.record("up", stack, user, dict(params), InvalidInput("bad input"))


def records(trail: AuditTrail) -> list[OperationRecord]:
    return trail.store.records()


def test_a_refusal_is_one_finished_record_of_who_what_and_why(trail: AuditTrail) -> None:
    refuse(RefusalLog(trail), preview_id="prev-0001")
    [r] = records(trail)
    assert (r.user, r.tool, r.stack, r.status, r.error, r.params, r.summary) == (
        "alice",
        "up",
        "aws-dev",
        "refused",
        "bad input",
        {"preview_id": "prev-0001"},
        {},
    )
    assert r.end_ts is not None


def test_an_unusable_caller_name_is_recorded_as_such(trail: AuditTrail) -> None:
    refuse(RefusalLog(trail), user="\u0430lice")
    assert records(trail)[0].user == "(invalid identity)"


@pytest.mark.parametrize(("stack", "recorded"), [("a" * 63, "a" * 63), ("a" * 64, repr("a" * 64)), (42, "42")])
def test_a_stack_name_too_long_or_not_text_is_recorded_quoted(trail: AuditTrail, stack: object, recorded: str) -> None:
    refuse(RefusalLog(trail), stack=stack)
    assert records(trail)[0].stack == recorded


def test_a_parameter_of_a_hundred_characters_is_kept(trail: AuditTrail) -> None:
    value = "x" * 98  # its repr is 100 characters
    refuse(RefusalLog(trail), target=value)
    assert records(trail)[0].params == {"target": value}


def test_a_longer_parameter_is_recorded_cut_short(trail: AuditTrail) -> None:
    refuse(RefusalLog(trail), target="x" * 99)
    assert records(trail)[0].params == {"target": repr("x" * 99)[:97] + "..."}


def test_a_long_error_is_cut_to_300_characters(trail: AuditTrail) -> None:
    RefusalLog(trail).record("up", "aws-dev", "alice", {}, InvalidInput("e" * 400))
    assert records(trail)[0].error == "e" * 300


def test_a_budget_of_one_records_the_first_refusal(trail: AuditTrail) -> None:
    log = RefusalLog(trail, per_minute=1)
    refuse(log)
    refuse(log)
    assert len(records(trail)) == 1


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_budget_refills_one_refusal_per_sixtieth_of_a_minute(
    trail: AuditTrail, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(refusals.time, "monotonic", clock)
    log = RefusalLog(trail, per_minute=60)
    for _ in range(61):
        refuse(log)
    clock.now += 1.0
    refuse(log)
    refuse(log)
    assert [r.summary for r in records(trail)][-2:] == [{}, {"suppressed_before": 1}]


def test_a_refusal_names_the_host_that_refused(trail: AuditTrail) -> None:
    refuse(RefusalLog(trail))
    assert records(trail)[0].host == HOST
