"""A person rejects a preview: on record with a reason the requester reads, and no approval of it counts after."""

from __future__ import annotations

import pytest

from engine.errors import ApprovalInvalid, InvalidInput
from engine.operations import Engine
from engine.settings import Settings

pytestmark = pytest.mark.slow
STACK = "gcp-dev"


def test_a_rejected_preview_cannot_be_approved_or_applied(sandbox_settings: Settings) -> None:
    engine = Engine(sandbox_settings)
    preview = engine.preview(STACK, user="alice-agent")
    early = engine.approve(preview.preview_id, approver="carol")
    assert engine.rejection(preview.preview_id) is None
    with pytest.raises(InvalidInput):
        engine.reject(preview.preview_id, user="bob", reason="  ")
    said = engine.reject(preview.preview_id, user="bob", reason="the\nnode pool is too big for dev")
    assert engine.rejection(preview.preview_id) == {
        "rejected_by": "bob",
        "reason": "the node pool is too big for dev",
        "at": engine.get_operation(said["operation_id"]).end_ts,
    }
    with pytest.raises(ApprovalInvalid, match="rejected by bob: the node pool is too big"):
        engine.approve(preview.preview_id, approver="dave")
    with pytest.raises(ApprovalInvalid, match="rejected by bob"):
        engine.up(STACK, user="alice-agent", preview_id=preview.preview_id, approval_id=early.approval_id)
    assert engine.get_operation(said["operation_id"]).tool == "reject"
