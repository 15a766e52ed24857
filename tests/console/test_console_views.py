"""What the console lists: only previews the audit trail recorded, open ones, with their risks."""

from __future__ import annotations

import pytest

from engine.console import views
from engine.operations import Engine
from engine.settings import Settings

pytestmark = pytest.mark.slow


def test_only_recorded_open_previews_are_pending(sandbox_settings: Settings) -> None:
    engine = Engine(sandbox_settings)
    real = engine.preview("gcp-dev", user="otto")
    record = engine.previews.get(real.preview_id)
    planted = record.model_copy(update={"preview_id": "0badc0de-0000-4000-8000-000000000002", "user": "mallory"})
    engine.previews.save(planted)  # a file dropped into the world-writable store
    expired = record.model_copy(update={"preview_id": "0badc0de-0000-4000-8000-000000000003", "expires_epoch": 1})
    engine.previews.save(expired)
    rows = views.pending(engine)
    assert [r.preview_id for r in rows] == [real.preview_id]
    assert rows[0].requester == "otto" and rows[0].counts == {"create": 26} and rows[0].policy.endswith("warn")
    assert views.preview_view(engine, planted.preview_id)["trusted"] is False
    engine.reject(real.preview_id, user="bob", reason="not today, thanks")
    assert views.pending(engine) == []


def test_a_preview_whose_stack_was_written_since_is_not_pending_and_says_why(sandbox_settings: Settings) -> None:
    engine = Engine(sandbox_settings)
    old = engine.preview("gcp-dev", user="otto")
    assert [r.preview_id for r in views.pending(engine)] == [old.preview_id]
    written = engine.refresh("gcp-dev", user="otto", preview_only=False)  # writes the stack's state
    assert views.pending(engine) == []
    view = views.preview_view(engine, old.preview_id)
    assert view["review"].written_by == f"refresh {written.operation_id}"
    assert engine.review(engine.preview("gcp-dev", user="otto").preview_id).written_by is None
