"""Preview: what an update or destroy would change, saved with its plan and digests under a preview id."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from engine.audit import now
from engine.catalog import check_stack
from engine.errors import InvalidInput
from engine.operations.context import OperationContext
from engine.operations.events import EventCollector, ProgressCallback
from engine.operations.parts import Parts
from engine.operations.provenance import seal
from engine.policy.document import preview_document, stack_section
from engine.policy.report import PolicyReport
from engine.previews import PreviewRecord, file_sha256
from engine.results import PreviewResult
from engine.vocabulary import Kind, Status, Tool, echo


def preview(
    parts: Parts,
    stack: str,
    *,
    user: str,
    targets: list[str] | None,
    refresh: bool,
    on_progress: ProgressCallback | None,
    operation_id: str | None,
    kind: Kind,
) -> PreviewResult:
    params = {"targets": targets, "refresh": refresh, "kind": kind.value}
    with parts.refusals.guard(kind.preview_tool, stack, user, params):
        check_stack(parts.catalog, stack)
        targets = check_targets(parts.catalog.project, stack, targets)
    params["targets"] = targets
    with parts.journal.operation(kind.preview_tool, stack, user, params, operation_id) as op:
        return _preview(parts, op, stack, targets, refresh, on_progress, kind)


def _preview(
    parts: Parts,
    op: OperationContext,
    stack: str,
    targets: list[str],
    refresh: bool,
    on_progress: ProgressCallback | None,
    kind: Kind,
) -> PreviewResult:
    started = time.monotonic()
    handle = parts.sessions.handle(op, stack)
    preview_id = str(uuid.uuid4())
    plan = parts.previews.plan_path(preview_id)
    plan.parent.mkdir(parents=True, exist_ok=True)
    collector = EventCollector(op, on_progress, None, review=True)
    # The state export (mode check, pending operations, state digest) and the secret config values run beside
    # the preview: it changes nothing, and a mode mismatch still refuses it before any result is returned.
    with ThreadPoolExecutor(max_workers=2) as pool:
        state_future = pool.submit(parts.sessions.state, stack, handle)
        state_future.add_done_callback(lambda done: collector.set_total(expected_steps(done)))
        secrets_future = pool.submit(parts.sessions.learn_secrets, op, handle)
        try:
            result = parts.sessions.run(
                op, stack, handle, lambda: _run_cli(op, handle, collector, kind, targets, refresh, plan)
            )
        finally:
            deployment, pending = state_future.result()
            secrets_future.result()
    policy = judge(parts, op, stack, kind, collector, plan if plan.exists() else None, pending)
    created = time.time()
    record = PreviewRecord(
        preview_id=preview_id,
        kind=kind,
        stack=stack,
        user=op.user,
        created_at=now(),
        created_epoch=created,
        operation_id=op.id,
        targets=targets,
        refresh=refresh,
        expires_epoch=int(created) + parts.settings.preview_ttl_seconds,
        digests=parts.sessions.digests(stack, deployment),
        plan_file=plan.name if plan.exists() else None,  # relative to the plans dir: portable between runners
        plan_sha256=file_sha256(plan) if plan.exists() else None,
        change_summary=dict(result.change_summary),
        policy=policy,
        audit_seq=op.started_seq,
    )
    return _save(parts, op, record, collector, pending, round(time.monotonic() - started, 3))


def judge(
    parts: Parts,
    op: OperationContext,
    stack: str,
    kind: Kind,
    collector: EventCollector,
    plan: Path | None,
    pending: list[str],
) -> PolicyReport:
    """The policy pack's decision on what this preview found (secrets masked before OPA sees anything)."""
    document = preview_document(
        stack=stack_section(parts.catalog.entry(stack), parts.catalog.project),
        requester=op.user,
        kind=kind.value,
        changes=collector.changes,
        step_inputs=collector.step_inputs,
        planned=collector.planned,
        plan=plan,
        pending=pending,
        mask=op.masker.obj,
        drifted=last_drift(parts, stack),
    )
    return parts.policy.decide(document, stack)


DRIFT_TOOLS = (Tool.CHECK_DRIFT, Tool.REFRESH)


def last_drift(parts: Parts, stack: str) -> list[str] | None:
    """What the stack's latest successful drift check or refresh found drifted (None: none in the latest 50)."""
    for record in parts.audit.query(stack=stack, limit=50).items:
        if record.tool in DRIFT_TOOLS and record.status == Status.SUCCEEDED:
            drifted = record.summary.get("drifted")
            return [str(u) for u in drifted] if isinstance(drifted, list) else []
    return None


def expected_steps(done: Future[tuple[dict[str, Any], list[str]]]) -> int | None:
    """How many resources a preview steps through, as far as the current state knows (None for a new stack)."""
    if done.exception() is not None:
        return None
    resources = done.result()[0].get("resources") or []
    counted = [r for r in resources if "::default" not in r.get("urn", "")]
    return len(counted) or None


def _run_cli(
    op: OperationContext,
    handle: auto.Stack,
    collector: EventCollector,
    kind: Kind,
    targets: list[str],
    refresh: bool,
    plan: Path,
) -> Any:
    if kind is Kind.UPDATE:
        return handle.preview(
            on_event=collector,
            target=targets or None,
            refresh=refresh or None,
            plan=str(plan),
            diff=False,
            **op.capture(),
        )
    return handle.preview_destroy(
        on_event=collector, target=targets or None, exclude_protected=not targets, **op.capture()
    )


def _save(
    parts: Parts,
    op: OperationContext,
    record: PreviewRecord,
    collector: EventCollector,
    pending: list[str],
    duration: float,
) -> PreviewResult:
    """The masked result, stored with the record it describes."""
    expires = datetime.fromtimestamp(record.expires_epoch, UTC)
    result = PreviewResult(
        preview_id=record.preview_id,
        operation_id=op.id,
        kind=record.kind,
        stack=record.stack,
        user=op.user,
        change_summary=record.change_summary,
        changes=sorted(collector.changes.values(), key=lambda c: c.urn),
        diagnostics=collector.diagnostics,
        policy_violations=collector.policy,
        pending_operations=pending,
        policy=record.policy,
        duration_seconds=duration,
        expires_at=expires.isoformat(timespec="seconds"),
    )
    masked = op.masker.obj(result.model_dump())
    result = PreviewResult.model_validate(masked)
    record.result = masked
    record.property_diffs = op.masker.obj(collector.property_diffs)
    binding = record.binding()  # over the whole record: computed once (~0.25 s at 5,000 resources)
    record.seal = seal(parts.audit.notary, record, binding)
    parts.previews.save(record)
    op.preview_id = record.preview_id
    # The engine's own word on what it previewed: an apply refuses a preview file that no longer matches it.
    op.summary = {"change_summary": record.change_summary, "changes": len(result.changes), "binding": binding}
    return result


def check_targets(project: str, stack: str, targets: list[str] | None) -> list[str]:
    """Targets must be URNs of this stack and project, with nothing a shell or the CLI could misread."""
    checked = []
    prefix = f"urn:pulumi:{stack}::{project}::"
    for target in targets or []:
        if (
            not isinstance(target, str)
            or not target.startswith(prefix)
            or len(target) > 1024
            or any(c.isspace() or ord(c) < 32 for c in target)
            or not target.isascii()
            or "::" not in target[len(prefix) :]
        ):
            raise InvalidInput(
                f"target {echo(target)} is not a resource URN of stack {stack}", target=str(target)[:100]
            )
        checked.append(target)
    return checked
