"""The human half of a change: approving a preview, asking for approval, finding it, and the dry-run answer."""

from __future__ import annotations

import time
from typing import Any

from engine.approvals import Approval
from engine.errors import ApprovalRequired, InvalidInput
from engine.operations import requirements
from engine.operations.parts import Parts
from engine.previews import PreviewRecord
from engine.results import ApplyResult, PreviewResult
from engine.vocabulary import Kind, Tool


def approve(parts: Parts, preview_id: str, *, approver: str) -> Approval:
    """A signed, single-use approval of exactly this preview, by someone other than who asked for it."""
    preview = parts.previews.get(preview_id)
    with parts.journal.operation(Tool.APPROVE, preview.stack, approver, {"preview_id": preview_id}) as op:
        op.preview_id = preview_id
        check_fresh(parts, preview)
        approval = parts.approvals.create(preview, approver, parts.settings.approval_ttl_seconds)
        op.approval_id = approval.approval_id
        return approval


def check_fresh(parts: Parts, preview: PreviewRecord) -> None:
    refusal = requirements.preview_age_refusal(preview, time.time(), parts.settings.preview_ttl_seconds)
    if refusal is not None:
        raise refusal


def find_approval(parts: Parts, preview_id: str) -> Approval:
    """The newest valid, unused approval of this preview (by someone other than who asked for it)."""
    preview = parts.previews.get(preview_id)
    candidates = []
    for approval in parts.approvals.for_preview(preview_id):
        facts = requirements.ApplyFacts(
            stack=preview.stack,
            kind=preview.kind,
            preview=preview,
            approval=approval,
            signature_ok=parts.approvals.signature_ok(approval),
            approval_used=parts.approvals.used(approval.approval_id),
            now=time.time(),
            preview_ttl_seconds=parts.settings.preview_ttl_seconds,
        )
        if requirements.check(facts, requirements.APPROVAL_RULES) is None:
            candidates.append(approval)
    if not candidates:
        raise ApprovalRequired(
            f"preview {preview_id} has no valid approval; a person other than {preview.user} must run "
            f"`datamcp approve {preview_id}`",
            preview_id=preview_id,
            stack=preview.stack,
        )
    return max(candidates, key=lambda a: a.created_at)


def approval_for(parts: Parts, preview_id: str, *, user: str, kind: Kind, operation_id: str | None) -> tuple[str, str]:
    """(stack, approval id) for the agents' route, which never holds approval ids; a missing approval is recorded
    as a refused apply."""
    preview = parts.previews.get(preview_id)
    if preview.kind != kind:
        raise InvalidInput(f"preview {preview_id} is a {preview.kind} preview, not a {kind}")
    try:
        return preview.stack, find_approval(parts, preview_id).approval_id
    except ApprovalRequired as refusal:
        params = {"preview_id": preview_id}
        parts.journal.record_refusal(kind.apply_tool, preview.stack, user, params, refusal, operation_id)
        raise


def request_apply(parts: Parts, preview_id: str, *, user: str, reason: str) -> dict[str, Any]:
    """Record that `user` asks a human to approve this preview, and say exactly what the human must do."""
    preview = parts.previews.get(preview_id)
    params = {"preview_id": preview_id, "reason": reason}
    with parts.journal.operation(Tool.REQUEST_APPLY, preview.stack, user, params) as op:
        op.preview_id = preview_id
        check_fresh(parts, preview)
        verb = preview.kind.verb
        return {
            "operation_id": op.id,
            "preview_id": preview_id,
            "stack": preview.stack,
            "kind": preview.kind.value,
            "change_summary": preview.change_summary,
            "approve_command": f"datamcp approve {preview_id} --approver <your-name>",
            "apply_command": f"datamcp {verb} {preview.stack} --preview-id {preview_id} --approval-id <approval-id>",
            "ci_route": f"GitHub Actions: run the 'apply' workflow with stack={preview.stack} and "
            f"preview_id={preview_id}; the '{preview.stack}' environment's reviewers approve it",
            "expires_at": preview.result.get("expires_at"),
        }


def dry_run(stack: str, preview: PreviewResult) -> ApplyResult:
    """What up/destroy without an approved preview answers: the preview, and how to apply it."""
    verb = Kind(preview.kind).verb
    return ApplyResult(
        applied=False,
        operation_id=preview.operation_id,
        stack=stack,
        preview=preview,
        change_summary=preview.change_summary,
        message=(
            f"dry run: nothing was changed. A different person approves with `datamcp approve "
            f"{preview.preview_id}`, then `datamcp {verb} {stack} --preview-id {preview.preview_id} "
            f"--approval-id APPROVAL_ID` applies exactly this preview."
        ),
    )
