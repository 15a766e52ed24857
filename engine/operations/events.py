"""Engine events to typed changes, diagnostics and progress (never by scraping text)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from pulumi import automation as auto

from engine.operations.context import OperationContext
from engine.operations.property_diff import step_diff
from engine.results import Diagnostic, PolicyViolation, ProgressEvent, ResourceChange
from engine.vocabulary import REPLACE_STEPS, UNCHANGED_OPS, ChangeOp, ProgressKind, urn_name

ProgressCallback = Callable[[ProgressEvent], None]
PROVIDER_PREFIX = "pulumi:providers:"


def is_default_provider(meta: Any) -> bool:
    """Providers the engine adds on its own; explicit ones are resources of the stack like any other (and the
    change summary counts them, so the change list does too)."""
    return bool(meta.type.startswith(PROVIDER_PREFIX) and urn_name(meta.urn).startswith("default"))


def resource_change(meta: Any, op: str | None = None) -> ResourceChange:
    """A step's metadata as a change (as `op`, default the step's own); replacement keys only where it replaces."""
    detailed = {k: str(getattr(v.diff_kind, "value", v.diff_kind)) for k, v in (meta.detailed_diff or {}).items()}
    new = meta.new or meta.old
    op = op or meta.op.value
    return ResourceChange(
        urn=meta.urn,
        type=meta.type,
        op=op,
        changed_keys=sorted(meta.diffs or []),
        replace_keys=sorted(meta.keys or []) if op in (ChangeOp.REPLACE, ChangeOp.CREATE_REPLACEMENT) else [],
        detailed_diff=detailed,
        parent=getattr(new, "parent", None) or None,
        protect=bool(getattr(new, "protect", False)),
    )


def _inputs(state: Any) -> dict[str, Any] | None:
    return dict(state.inputs or {}) if state is not None else None


class EventCollector:
    """Collects one operation's events; called from the SDK's event thread."""

    def __init__(
        self, op: OperationContext, on_progress: ProgressCallback | None, total: int | None, *, review: bool = False
    ) -> None:
        self.op = op
        self.on_progress = on_progress
        self.total = total
        # A preview is reviewed: it keeps every resource as planned (the policy input), each change's inputs and
        # property diff, and reports unchanged resources too (progress over the whole stack). An apply or a refresh
        # needs none of that, and skips it (at 2,000 resources it was a fifth of a second of the event thread).
        self.review = review
        self.done = 0
        self.finished: set[str] = set()  # each resource counts once (components report their outputs twice)
        self.changes: dict[str, ResourceChange] = {}
        self.refreshed: dict[str, ResourceChange] = {}
        self.property_diffs: dict[str, dict[str, dict[str, Any]]] = {}
        self.diagnostics: list[Diagnostic] = []
        self.policy: list[PolicyViolation] = []
        self.planned: dict[str, dict[str, Any]] = {}  # every resource as the preview leaves it (the policy input)
        self.step_inputs: dict[str, tuple[Any, Any]] = {}  # per changed resource: (old inputs, new inputs)
        self.lock = threading.Lock()

    def _progress(self, kind: ProgressKind, meta: Any, op: str) -> None:
        if self.on_progress is not None:
            event = ProgressEvent(
                operation_id=self.op.id,
                total=self.total,
                done=self.done,
                kind=kind.value,
                urn=meta.urn,
                type=meta.type,
                op=op,
            )
            with contextlib.suppress(Exception):  # a broken progress consumer must not break the operation
                self.on_progress(event)

    def __call__(self, event: auto.EngineEvent) -> None:
        with self.lock:
            if event.resource_pre_event is not None:
                self._pre(event.resource_pre_event.metadata)
            elif event.res_outputs_event is not None:
                self._outputs(event.res_outputs_event.metadata)
            elif event.res_op_failed_event is not None:
                meta = event.res_op_failed_event.metadata
                self._progress(ProgressKind.RESOURCE_FAILED, meta, meta.op.value)
            elif event.diagnostic_event is not None:
                self._diagnostic(event.diagnostic_event)
            elif event.policy_event is not None:
                self._policy(event.policy_event)

    def _pre(self, meta: Any) -> None:
        op = meta.op.value
        if self.review and not is_default_provider(meta):
            self._plan(meta, op)
        if is_default_provider(meta) or op in UNCHANGED_OPS:
            return
        if op in REPLACE_STEPS:
            if meta.urn in self.changes:
                return  # one entry per replaced resource
            op = ChangeOp.REPLACE.value
        self.changes[meta.urn] = resource_change(meta, op)
        if self.review:
            self.step_inputs[meta.urn] = (_inputs(meta.old), _inputs(meta.new))
            self.property_diffs[meta.urn] = step_diff(meta, op)
        self.op.resource_refs.add(meta.urn)
        self._progress(ProgressKind.RESOURCE_STARTED, meta, op)

    def _plan(self, meta: Any, op: str) -> None:
        """The resource as it will be after this step (gone: not planned)."""
        new = meta.new
        if op in (ChangeOp.DELETE, ChangeOp.DISCARD):
            self.planned.pop(meta.urn, None)
            return
        if new is None or op == ChangeOp.DELETE_REPLACED:
            return
        self.planned[meta.urn] = {
            "urn": meta.urn,
            "type": meta.type,
            "name": urn_name(meta.urn),
            "custom": bool(new.custom),
            "parent": new.parent or None,
            "provider": new.provider or None,
            "dependencies": [],
            "protect": bool(new.protect),
            "inputs": _inputs(new),
        }

    def _outputs(self, meta: Any) -> None:
        if is_default_provider(meta):
            return
        if meta.op.value in (ChangeOp.UPDATE, ChangeOp.DELETE):  # what a refresh found changed or gone
            self.refreshed[meta.urn] = resource_change(meta)
        counted = meta.urn in self.changes or (self.review and meta.op.value == ChangeOp.SAME)
        if counted and meta.urn not in self.finished:
            self.finished.add(meta.urn)
            self.done = len(self.finished)
            if self.total is not None:
                self.total = max(self.total, self.done)
            self._progress(ProgressKind.RESOURCE_FINISHED, meta, meta.op.value)

    def set_total(self, total: int | None) -> None:
        """The expected number of steps, once known (a preview learns it from the state beside the CLI run)."""
        with self.lock:
            if total:
                self.total = max(total, self.done)

    def _diagnostic(self, d: Any) -> None:
        if d.severity not in ("error", "warning"):
            return  # info and debug lines are neither kept nor masked (most of a run's diagnostics)
        message = self.op.masker.text(d.message.strip())
        if message and "using pulumi-resource-" not in message:
            self.diagnostics.append(Diagnostic(severity=d.severity, message=message, urn=d.urn or None))

    def _policy(self, p: Any) -> None:
        self.policy.append(
            PolicyViolation(
                policy=p.policy_name,
                pack=p.policy_pack_name,
                enforcement=p.enforcement_level,
                message=self.op.masker.text(p.message),
                urn=p.resource_urn,
            )
        )
