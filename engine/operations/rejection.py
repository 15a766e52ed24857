"""Rejecting a preview: a person says no, with a reason the requester can read. The audit trail is the record: a
rejection is an operation of its own, so nobody can remove it or plant one outside the chain."""

from __future__ import annotations

from typing import Any

from engine.audit import OperationRecord
from engine.errors import InvalidInput
from engine.operations.parts import Parts
from engine.previews import PreviewRecord
from engine.vocabulary import Status, Tool

REASON_LIMIT = 1000
SCAN_PAGE = 200


def reject(parts: Parts, preview_id: str, *, user: str, reason: str) -> dict[str, Any]:
    """Record that `user` rejects the preview; approvals of it are refused from then on."""
    preview = parts.previews.get(preview_id)
    text = " ".join(str(reason).split())[:REASON_LIMIT]
    if len(text) < 3:
        raise InvalidInput("a rejection needs a reason the requester can act on")
    params = {"preview_id": preview_id, "reason": text}
    with parts.journal.operation(Tool.REJECT, preview.stack, user, params) as op:
        op.preview_id = preview_id
        return {"operation_id": op.id, "preview_id": preview_id, "rejected_by": op.user, "reason": text}


def rejection(parts: Parts, preview: PreviewRecord) -> dict[str, Any] | None:
    """The first recorded rejection of this preview (by, reason, when), if anyone rejected it."""
    cursor = None
    while True:
        page = parts.audit.query(stack=preview.stack, since=preview.created_at, limit=SCAN_PAGE, cursor=cursor)
        found = [r for r in page.items if _rejects(r, preview.preview_id)]
        if found:
            last = found[-1]  # the page is newest first: the earliest rejection wins
            return {"rejected_by": last.user, "reason": last.params.get("reason"), "at": last.end_ts or last.start_ts}
        if not page.next_cursor:
            return None
        cursor = page.next_cursor


def _rejects(record: OperationRecord, preview_id: str) -> bool:
    return record.tool == Tool.REJECT and record.preview_id == preview_id and record.status == Status.SUCCEEDED
