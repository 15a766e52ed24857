"""The engine's seal on the previews it makes: only the notary key makes one, and it fits one binding only."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.audit.checkpoints import Notary
from engine.operations.provenance import seal, sealed
from engine.previews import PreviewRecord
from engine.trust.server_key import ServerKey
from tests.engine.operations.builders import preview


@pytest.fixture
def notary(tmp_path: Path) -> Notary:
    return Notary(ServerKey.generate(tmp_path / "notary.key"))


def sealed_preview(notary: Notary, **changes: object) -> PreviewRecord:
    record = preview(**changes)
    return record.model_copy(update={"seal": seal(notary, record)})


def test_a_preview_the_engine_sealed_is_its_own(notary: Notary) -> None:
    assert sealed(notary, sealed_preview(notary))


def test_the_seal_is_not_part_of_the_binding_it_seals(notary: Notary) -> None:
    assert sealed_preview(notary).binding() == preview().binding()


@pytest.mark.parametrize(
    "change",
    [
        {"preview_id": "prev-0666", "change_summary": {}, "result": {}},  # a copy showing nothing, same plan
        {"user": "mallory"},
        {"audit_seq": 1},
    ],
)
def test_a_sealed_preview_copied_or_edited_is_not_the_engines(notary: Notary, change: dict[str, object]) -> None:
    assert not sealed(notary, sealed_preview(notary).model_copy(update=change))


def test_a_seal_made_with_another_key_or_none_is_refused(notary: Notary, tmp_path: Path) -> None:
    other = Notary(ServerKey.generate(tmp_path / "other.key"))
    assert not sealed(notary, sealed_preview(other))
    assert not sealed(notary, preview())
