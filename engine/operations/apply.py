"""Apply: run exactly an approved preview (update or destroy) under the stack's lock, or refuse and change nothing."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from engine.catalog import check_stack
from engine.errors import InvalidInput
from engine.masking import SECRET
from engine.operations import preview, requirements
from engine.operations.approval_flow import approval_facts, check_not_rejected, dry_run
from engine.operations.context import OperationContext
from engine.operations.events import EventCollector, ProgressCallback
from engine.operations.on_record import since_preview
from engine.operations.parts import Parts
from engine.operations.provenance import recorded_binding, sealed
from engine.previews import PreviewRecord, file_sha256
from engine.results import ApplyResult
from engine.vocabulary import Kind


def apply_or_dry_run(
    parts: Parts,
    kind: Kind,
    stack: str,
    user: str,
    preview_id: str | None,
    approval_ids: list[str],
    targets: list[str] | None,
    on_progress: ProgressCallback | None,
    operation_id: str | None,
) -> ApplyResult:
    """Dry run by default: without a preview id only a preview is made; a preview id needs its approvals."""
    if preview_id is not None and not approval_ids:
        refusal = InvalidInput(
            f"--preview-id {preview_id} needs the approval(s) to apply it: add --approval-id APPROVAL_ID "
            "(repeat it when the stack needs several approvers)",
            preview_id=preview_id,
        )
        parts.refusals.record(kind.apply_tool, stack, user, {"preview_id": preview_id}, refusal)
        raise refusal
    if preview_id is None:
        result = preview.preview(
            parts,
            stack,
            user=user,
            targets=targets,
            refresh=False,
            on_progress=on_progress,
            operation_id=operation_id,
            kind=kind,
        )
        return dry_run(stack, result)
    return apply(
        parts,
        kind,
        stack,
        user=user,
        preview_id=preview_id,
        approval_ids=approval_ids,
        on_progress=on_progress,
        operation_id=operation_id,
    )


def apply(
    parts: Parts,
    kind: Kind,
    stack: str,
    *,
    user: str,
    preview_id: str,
    approval_ids: list[str],
    on_progress: ProgressCallback | None,
    operation_id: str | None,
) -> ApplyResult:
    """Record the attempt, take the stack's lock, check every requirement, then run the saved plan."""
    params = {"preview_id": preview_id, "approval_ids": approval_ids}
    with parts.refusals.guard(kind.apply_tool, stack, user, params):
        check_stack(parts.catalog, stack)
        parts.previews.get(preview_id)
    with parts.journal.operation(kind.apply_tool, stack, user, params, operation_id) as op:
        op.preview_id, op.approval_id = preview_id, approval_ids[0]
        op.held.enter_context(parts.locked(op))  # until the final record is written
        return _apply_locked(parts, op, kind, stack, approval_ids, on_progress)


def _facts(
    parts: Parts, op: OperationContext, kind: Kind, stack: str, preview: PreviewRecord, approval_ids: list[str]
) -> requirements.ApplyFacts:
    approvals = [parts.approvals.get(i) for i in dict.fromkeys(approval_ids)]
    binding = preview.binding()  # a digest of the whole record (~0.03 s at 2,000 resources): taken once
    on_record = since_preview(parts.audit, preview, (a.approval_id for a in approvals), op.id)
    return requirements.ApplyFacts(
        stack=stack,
        kind=kind,
        preview=preview,
        approvals=tuple(approval_facts(parts, preview, a, binding) for a in approvals),
        required=parts.trust.required(stack, parts.environment(stack)),  # the policy may raise it (requirements)
        now=time.time(),
        recorded_binding=recorded_binding(parts, preview),
        sealed=sealed(parts.audit.notary, preview, binding),
        used_on_record=on_record.used,
        changed_on_record=on_record.changed_by,
        preview_binding=binding,
    )


def _apply_locked(
    parts: Parts,
    op: OperationContext,
    kind: Kind,
    stack: str,
    approval_ids: list[str],
    on_progress: ProgressCallback | None,
) -> ApplyResult:
    started = time.monotonic()
    assert op.preview_id is not None
    preview = parts.previews.get(op.preview_id)
    # An operation whose process died is marked first, so the trail shows it when `_facts` reads it: a long-running
    # server marks them only when it starts, and such an apply may have written the stack (rollback replay).
    parts.journal.mark_interrupted()
    facts = _facts(parts, op, kind, stack, preview, approval_ids)
    _refuse_if(requirements.check(facts))
    check_not_rejected(parts, preview)  # a person said no after approving it: the no wins
    handle = parts.sessions.handle(op, stack)
    parts.sessions.learn_secrets(op, handle)
    deployment, pending = parts.sessions.state(stack, handle)
    plan = parts.previews.plan_for(preview)
    state = requirements.StateFacts(
        digests=parts.sessions.digests(stack, deployment),
        pending=tuple(pending),
        plan_sha256=file_sha256(plan) if plan is not None and plan.exists() else None,
    )
    _refuse_if(requirements.check(_with_state(facts, state)))
    op.fence.check()  # a lease lost by now burns no approval
    for approval in facts.approvals:
        parts.approvals.consume(approval.approval.approval_id, op.id)
    op.summary = {"approvers": requirements.distinct_approvers(facts.approvals)}
    total = len(preview.result.get("changes", [])) or None
    collector = EventCollector(op, on_progress, total)
    result = parts.sessions.run(op, stack, handle, lambda: _run_cli(op, handle, collector, kind, preview, plan))
    op.update_version = parts.sessions.update_number(stack, handle, result.summary.version)
    return _applied(op, kind, stack, result, collector, round(time.monotonic() - started, 3))


def _with_state(facts: requirements.ApplyFacts, state: requirements.StateFacts) -> requirements.ApplyFacts:
    return replace(facts, state=state)


def _refuse_if(refusal: Exception | None) -> None:
    if refusal is not None:
        raise refusal


def _run_cli(
    op: OperationContext,
    handle: auto.Stack,
    collector: EventCollector,
    kind: Kind,
    preview: PreviewRecord,
    plan: Path | None,
) -> Any:
    if kind is Kind.UPDATE:
        return handle.up(
            on_event=collector,
            plan=str(plan) if plan else None,
            target=preview.targets or None,
            refresh=preview.refresh or None,
            show_secrets=False,
            **op.capture(),
        )
    return handle.destroy(
        on_event=collector,
        target=preview.targets or None,
        exclude_protected=not preview.targets,
        show_secrets=False,
        **op.capture(),
    )


def _applied(
    op: OperationContext,
    kind: Kind,
    stack: str,
    result: Any,
    collector: EventCollector,
    duration: float,
) -> ApplyResult:
    """The masked result; secret outputs are learned first so they never show."""
    outputs = getattr(result, "outputs", None) or {}
    op.masker.add(*(str(v.value) for v in outputs.values() if v.secret))
    summary = dict(result.summary.resource_changes or {})
    op.summary = {**op.summary, "change_summary": summary}
    applied = ApplyResult(
        applied=True,
        operation_id=op.id,
        stack=stack,
        change_summary=summary,
        changes=sorted(collector.changes.values(), key=lambda c: c.urn),
        outputs={k: SECRET if v.secret else v.value for k, v in sorted(outputs.items())},
        update_version=op.update_version,
        duration_seconds=duration,
        message=f"{kind} of {stack} applied (update {op.update_version})",
    )
    return ApplyResult.model_validate(op.masker.obj(applied.model_dump()))
