"""Refresh: which resources differ from the state (drift), and optionally write what exists into the state."""

from __future__ import annotations

import time
from typing import Any

from pulumi import automation as auto

from engine.catalog import check_stack
from engine.operations.context import OperationContext
from engine.operations.events import EventCollector, ProgressCallback
from engine.operations.parts import Parts
from engine.results import RefreshResult
from engine.vocabulary import Tool


def refresh(
    parts: Parts,
    stack: str,
    *,
    user: str,
    preview_only: bool,
    clear_pending_creates: bool,
    on_progress: ProgressCallback | None,
    operation_id: str | None,
) -> RefreshResult:
    """The cloud is never changed by a refresh; only `preview_only=False` changes the state, under the lock."""
    params = {"preview_only": preview_only, "clear_pending_creates": clear_pending_creates}
    tool = Tool.CHECK_DRIFT if preview_only else Tool.REFRESH
    with parts.refusals.guard(tool, stack, user, params):
        check_stack(parts.catalog, stack)
    with parts.journal.operation(tool, stack, user, params, operation_id) as op:
        if preview_only:
            return _refresh(parts, op, stack, True, False, on_progress)
        op.held.enter_context(parts.locked(op))  # until the final record is written
        return _refresh(parts, op, stack, False, clear_pending_creates, on_progress)


def _refresh(
    parts: Parts,
    op: OperationContext,
    stack: str,
    preview_only: bool,
    clear_pending: bool,
    on_progress: ProgressCallback | None,
) -> RefreshResult:
    started = time.monotonic()
    handle = parts.sessions.handle(op, stack)
    parts.sessions.learn_secrets(op, handle)
    parts.sessions.state(stack, handle)
    collector = EventCollector(op, on_progress, None)
    result = parts.sessions.run(op, stack, handle, lambda: _run_cli(op, handle, collector, preview_only, clear_pending))
    if preview_only:
        summary = dict(result.change_summary)
    else:
        summary = dict(result.summary.resource_changes or {})
        op.update_version = parts.sessions.update_number(stack, handle, result.summary.version)
    drifted = sorted(collector.refreshed.values(), key=lambda c: c.urn)
    op.summary = {"change_summary": summary, "drifted": [c.urn for c in drifted]}
    op.resource_refs.update(c.urn for c in drifted)
    refreshed = RefreshResult(
        operation_id=op.id,
        stack=stack,
        preview_only=preview_only,
        drifted=drifted,
        change_summary=summary,
        duration_seconds=round(time.monotonic() - started, 3),
    )
    return RefreshResult.model_validate(op.masker.obj(refreshed.model_dump()))


def _run_cli(
    op: OperationContext, handle: auto.Stack, collector: EventCollector, preview_only: bool, clear_pending: bool
) -> Any:
    if preview_only:
        return handle.preview_refresh(on_event=collector, **op.capture())
    return handle.refresh(
        on_event=collector, clear_pending_creates=clear_pending or None, show_secrets=False, **op.capture()
    )
