"""The Engine: preview, approve, up, refresh, destroy and cancel stacks through the Automation API, with approvals,
locking, cancellation and an audit trail. The CLI, the MCP server and CI all call this; nothing else drives Pulumi.

Lifecycle of a mutating operation: validate input -> write the `started` audit record (or refuse to run) -> take the
stack's lock -> check the preview, the approval and the digests -> consume the approval -> run the CLI with the saved
plan -> write the final audit record. See docs/engine.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from engine.approvals import Approval, ApprovalStore, load_or_create_key
from engine.audit import OUTPUT_LIMIT, AuditStore, OperationRecord, Page, now, open_store
from engine.errors import (
    ApprovalInvalid,
    ApprovalRequired,
    DataMcpError,
    InvalidInput,
    OperationCancelled,
    OperationFailed,
    OperationNotFound,
    PendingOperations,
    StackBusy,
    StalePreview,
)
from engine.locking import StackLocks, backend_lock_holder, pid_alive
from engine.masking import SECRET, Masker, bounded
from engine.previews import Digests, PreviewRecord, PreviewStore, file_sha256, tree_digest
from engine.results import (
    ApplyResult,
    Diagnostic,
    PolicyViolation,
    PreviewResult,
    ProgressEvent,
    RefreshResult,
    ResourceChange,
    StackDescription,
    StackInfo,
)
from engine.runner import InterruptiblePulumiCommand
from engine.sandbox.mode import ensure_mode
from engine.settings import Settings
from engine.validation import check_stack_name
from engine.workspace import pulumi_command, stack_handle

PROJECT = "datamcp"
PROGRAM_FOLDERS = ("components", "stacks", "charts")
CODE_ROOT = Path(__file__).resolve().parents[1]  # the program that runs is this checkout's code
REFUSALS = (ApprovalRequired, ApprovalInvalid, StalePreview, StackBusy, PendingOperations, InvalidInput)
ProgressCallback = Callable[[ProgressEvent], None]
_IGNORED_OPS = {"same", "read", "refresh", "discard", "remove-pending-replace"}
_HOST = socket.gethostname()


@dataclass
class _Op:
    """The state of one running operation, filled in as it goes and written to the audit trail at the end."""

    id: str
    tool: str
    stack: str | None
    user: str
    params: dict[str, Any]
    start_ts: str
    masker: Masker
    command: InterruptiblePulumiCommand | None = None
    handle: auto.Stack | None = None
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    resource_refs: set[str] = field(default_factory=set)
    preview_id: str | None = None
    approval_id: str | None = None
    update_version: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)


class _EventCollector:
    """Turns engine events into typed changes, diagnostics and progress (never by scraping text)."""

    def __init__(self, op: _Op, on_progress: ProgressCallback | None, total: int | None) -> None:
        self.op = op
        self.on_progress = on_progress
        self.total = total
        self.done = 0
        self.changes: dict[str, ResourceChange] = {}
        self.refreshed: dict[str, ResourceChange] = {}
        self.diagnostics: list[Diagnostic] = []
        self.policy: list[PolicyViolation] = []
        self.lock = threading.Lock()

    def _progress(self, **kwargs: Any) -> None:
        if self.on_progress is not None:
            # A broken progress consumer must not break the operation.
            with contextlib.suppress(Exception):
                self.on_progress(ProgressEvent(operation_id=self.op.id, total=self.total, done=self.done, **kwargs))

    @staticmethod
    def _change(meta: Any) -> ResourceChange:
        detailed = {k: str(getattr(v.diff_kind, "value", v.diff_kind)) for k, v in (meta.detailed_diff or {}).items()}
        new = meta.new or meta.old
        op = meta.op.value
        return ResourceChange(
            urn=meta.urn,
            type=meta.type,
            op=op,
            changed_keys=sorted(meta.diffs or []),
            replace_keys=sorted(meta.keys or []) if op in ("replace", "create-replacement") else [],
            detailed_diff=detailed,
            parent=getattr(new, "parent", None) or None,
            protect=bool(getattr(new, "protect", False)),
        )

    def __call__(self, event: auto.EngineEvent) -> None:
        with self.lock:
            if event.resource_pre_event is not None:
                meta = event.resource_pre_event.metadata
                if meta.type.startswith("pulumi:providers:") or meta.op.value in _IGNORED_OPS:
                    return
                op = meta.op.value
                if op in ("create-replacement", "delete-replaced") and meta.urn in self.changes:
                    return  # one entry per replaced resource
                if op in ("create-replacement", "delete-replaced"):
                    op = "replace"
                change = self._change(meta).model_copy(update={"op": op})
                self.changes[meta.urn] = change
                self.op.resource_refs.add(meta.urn)
                self._progress(kind="resource_started", urn=meta.urn, type=meta.type, op=op)
            elif event.res_outputs_event is not None:
                meta = event.res_outputs_event.metadata
                if meta.type.startswith("pulumi:providers:"):
                    return
                if meta.op.value in ("update", "delete"):  # what a refresh found changed or gone
                    self.refreshed[meta.urn] = self._change(meta)
                if meta.urn in self.changes:
                    self.done += 1
                    self._progress(kind="resource_finished", urn=meta.urn, type=meta.type, op=meta.op.value)
            elif event.res_op_failed_event is not None:
                meta = event.res_op_failed_event.metadata
                self._progress(kind="resource_failed", urn=meta.urn, type=meta.type, op=meta.op.value)
            elif event.diagnostic_event is not None:
                d = event.diagnostic_event
                message = self.op.masker.text(d.message.strip())
                if d.severity in ("error", "warning") and message and "using pulumi-resource-" not in message:
                    self.diagnostics.append(Diagnostic(severity=d.severity, message=message, urn=d.urn or None))
            elif event.policy_event is not None:
                p = event.policy_event
                self.policy.append(
                    PolicyViolation(
                        policy=p.policy_name,
                        pack=p.policy_pack_name,
                        enforcement=p.enforcement_level,
                        message=self.op.masker.text(p.message),
                        urn=p.resource_urn,
                    )
                )


class Engine:
    """One engine per process; safe to share between threads. Operations on one stack are serialised."""

    def __init__(self, settings: Settings, *, audit: AuditStore | None = None) -> None:
        self.settings = settings
        assert settings.state_dir is not None
        state = settings.state_dir
        self.audit: AuditStore = audit if audit is not None else open_store(str(settings.audit_url))
        self.previews = PreviewStore(state / "previews")
        key = (
            settings.approval_key.get_secret_value().encode()
            if settings.approval_key
            else load_or_create_key(state / "approval.key")
        )
        self.approvals = ApprovalStore(state / "approvals", key)
        self.locks = StackLocks(state / "locks")
        self.cancel_dir = state / "cancel"
        self._running: dict[str, _Op] = {}
        self._running_lock = threading.Lock()
        self._secrets_cache: dict[str, list[str]] = {}
        self._idle_handles: dict[str, list[auto.Stack]] = {}
        self.mark_interrupted()

    # --- the audit trail ----------------------------------------------------------------------------------------
    def mark_interrupted(self) -> list[str]:
        """Operations left `started` by a process on this host that is gone are recorded as `interrupted`."""
        marked = []
        for record in self.audit.running():
            if record.host == _HOST and record.pid != os.getpid() and not pid_alive(record.pid):
                self.audit.append(
                    record.model_copy(
                        update={
                            "status": "interrupted",
                            "end_ts": now(),
                            "error": "the process running this operation ended before it finished",
                        }
                    )
                )
                marked.append(record.id)
        return marked

    def _record(self, op: _Op, status: str, error: str | None = None) -> OperationRecord:
        stdout, cut_out = bounded(op.masker.text("\n".join(op.stdout)), OUTPUT_LIMIT)
        stderr, cut_err = bounded(op.masker.text("\n".join(op.stderr)), OUTPUT_LIMIT)
        return OperationRecord(
            id=op.id,
            user=op.user,
            tool=op.tool,
            stack=op.stack,
            params=op.masker.obj(op.params),
            status=status,
            start_ts=op.start_ts,
            end_ts=None if status == "started" else now(),
            stdout=stdout,
            stderr=stderr,
            output_truncated=cut_out or cut_err,
            error=op.masker.text(error) if error else None,
            resource_refs=sorted(op.resource_refs),
            preview_id=op.preview_id,
            approval_id=op.approval_id,
            update_version=op.update_version,
            summary=op.masker.obj(op.summary),
            host=_HOST,
            pid=os.getpid(),
        )

    @contextmanager
    def _operation(
        self, tool: str, stack: str | None, user: str, params: dict[str, Any], operation_id: str | None = None
    ) -> Iterator[_Op]:
        """Audit an operation: no `started` record, no operation (AuditUnavailable propagates, nothing ran)."""
        op = _Op(
            id=operation_id or str(uuid.uuid4()),
            tool=tool,
            stack=stack,
            user=user,
            params=params,
            start_ts=now(),
            masker=Masker(),
        )
        self.audit.append(self._record(op, "started"))
        with self._running_lock:
            self._running[op.id] = op
        watcher = threading.Thread(target=self._watch_cancel, args=(op,), daemon=True)
        watcher.start()
        status, error = "succeeded", None
        try:
            yield op
        except OperationCancelled as exc:
            status, error = "cancelled", exc.message
            raise
        except REFUSALS as exc:
            status, error = "refused", exc.message
            raise
        except DataMcpError as exc:
            status, error = "failed", exc.message
            raise
        except BaseException as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            with self._running_lock:
                self._running.pop(op.id, None)
            if status != "cancelled":  # a cancelled CLI may leave its workspace mid-command: do not reuse it
                self._release(op)
            full = op.masker.text("\n".join(op.stdout + op.stderr))
            self.audit.append(self._record(op, status, error), attachment=full if len(full) > OUTPUT_LIMIT else None)
            (self.cancel_dir / op.id).unlink(missing_ok=True)

    def _watch_cancel(self, op: _Op) -> None:
        """Cancellation requested from another process arrives as a file; interrupt the CLI when it appears."""
        marker = self.cancel_dir / op.id
        while True:
            with self._running_lock:
                if op.id not in self._running:
                    return
            if marker.exists():
                self._interrupt(op)
                return
            time.sleep(0.2)

    def _interrupt(self, op: _Op) -> None:
        if op.command is not None:
            op.command.interrupt()

    # --- stack handles ------------------------------------------------------------------------------------------
    def _handle(self, op: _Op | None, stack: str, *, create: bool = True) -> auto.Stack:
        """A stack handle whose CLI calls this operation can interrupt. Handles are reused between operations
        (one operation at a time each): selecting a stack costs a CLI call."""
        from stacks.program import program

        command = pulumi_command(self.settings)
        if op is not None:
            op.command = command
            if (self.cancel_dir / op.id).exists():
                command.interrupt()
            with self._running_lock:
                idle = self._idle_handles.get(stack) or []
                handle = idle.pop() if idle else None
            if handle is not None:
                handle.workspace.pulumi_command = command
                op.handle = handle
                return handle
        handle = stack_handle(
            self.settings,
            project=PROJECT,
            stack=stack,
            program=program,
            work_dir=self.settings.project_root,
            command=command,
            create=create,
        )
        if op is not None:
            op.handle = handle
        return handle

    def _release(self, op: _Op) -> None:
        if op.handle is not None and op.stack is not None:
            with self._running_lock:
                self._idle_handles.setdefault(op.stack, []).append(op.handle)

    def _capture(self, op: _Op) -> dict[str, Any]:
        return {"on_output": op.stdout.append, "on_error": op.stderr.append, "color": "never"}

    def _learn_secrets(self, op: _Op, handle: auto.Stack) -> None:
        """Every secret config value becomes a masked string for this operation. Decrypting needs the CLI, so the
        values are kept per config-file digest: an unchanged file is not decrypted again."""
        config = self.settings.project_root / f"Pulumi.{handle.name}.yaml"
        key = file_sha256(config) if config.exists() else ""
        if key not in self._secrets_cache:
            values = [v.value for v in handle.get_all_config().values() if v.secret]
            with self._running_lock:
                self._secrets_cache[key] = values
        op.masker.add(*self._secrets_cache[key])

    def _digests(self, stack: str, deployment: dict[str, Any]) -> Digests:
        root = self.settings.project_root
        config = root / f"Pulumi.{stack}.yaml"
        state = json.dumps({k: v for k, v in deployment.items() if k != "manifest"}, sort_keys=True)
        return Digests(
            program=tree_digest(CODE_ROOT, PROGRAM_FOLDERS),
            config=file_sha256(config) if config.exists() else "",
            state=uuid.uuid5(uuid.NAMESPACE_URL, state).hex,
        )

    def _state(self, stack: str, handle: auto.Stack) -> tuple[dict[str, Any], list[str]]:
        """The exported deployment (checked against the sandbox mode) and the URNs of pending operations."""
        deployment: dict[str, Any] = dict(handle.export_stack().deployment or {})
        ensure_mode(stack, deployment, bool(self.settings.sandbox))
        pending = [p.get("resource", {}).get("urn", "?") for p in deployment.get("pending_operations") or []]
        return deployment, pending

    def _run(self, op: _Op, stack: str, handle: auto.Stack, fn: Callable[[], Any]) -> Any:
        """Run one CLI operation, translating failures: interrupted -> cancelled, backend lock -> StackBusy."""
        for attempt in (1, 2):
            try:
                return fn()
            except auto.ConcurrentUpdateError as exc:
                holder = backend_lock_holder(str(exc))
                stale = (
                    holder.get("who", "").endswith("@" + _HOST)
                    and holder.get("pid", "").isdigit()
                    and not pid_alive(int(holder["pid"]))
                )
                if stale and attempt == 1:
                    # We hold the engine lock and the backend lock's owner on this host is dead: it is stale.
                    op.stderr.append(f"removing a stale backend lock of dead process {holder['pid']}")
                    handle.cancel()
                    continue
                raise StackBusy(
                    f"stack {stack!r} is locked in the backend by {holder.get('who', 'another process')}"
                    f" (pid {holder.get('pid', '?')}) since {holder.get('since', '?')}",
                    stack=stack,
                    holder=holder,
                ) from None
            except auto.CommandError as exc:
                if op.command is not None and op.command.interrupted:
                    raise OperationCancelled(f"operation {op.id} was cancelled", operation_id=op.id) from None
                raise OperationFailed(
                    f"{op.tool} of {stack} failed: {op.masker.text(_last_error(str(exc)))}",
                    operation_id=op.id,
                    stack=stack,
                ) from None
        raise AssertionError("unreachable")

    # --- read-only views ----------------------------------------------------------------------------------------
    def list_stacks(self) -> list[StackInfo]:
        return stack_infos()

    def outputs(self, stack: str) -> dict[str, Any]:
        """Current stack outputs; secret ones are shown as "[secret]"."""
        check_stack_name(stack)
        try:
            handle = self._handle(None, stack, create=False)
        except auto.StackNotFoundError:
            return {}
        masker = Masker()
        outputs = handle.outputs()
        masker.add(*(str(v.value) for v in outputs.values() if v.secret))
        return {k: SECRET if v.secret else masker.obj(v.value) for k, v in sorted(outputs.items())}

    def describe(self, stack: str) -> StackDescription:
        from stacks.registry import get

        spec = get(check_stack_name(stack))
        outputs = self.outputs(stack)
        last = self.audit.query(stack=stack, limit=1).items
        return StackDescription(
            name=spec.name,
            cloud=spec.cloud,
            environment=spec.environment,
            description=spec.description,
            config_file=spec.config_file,
            config_schema=spec.config_model.model_json_schema(),
            outputs=outputs,
            last_operation=last[0].model_dump(include={"id", "tool", "status", "user", "start_ts", "end_ts"})
            if last
            else None,
            deployed=bool(outputs),
        )

    def history(self, stack: str, limit: int = 20, cursor: str | None = None) -> Page:
        return self.audit.query(stack=check_stack_name(stack), limit=limit, cursor=cursor)

    def get_operation(self, operation_id: str) -> OperationRecord:
        record = self.audit.get(operation_id)
        if record is None:
            raise OperationNotFound(f"no operation {operation_id!r}", operation_id=operation_id)
        return record

    def list_operations(self, **filters: Any) -> Page:
        return self.audit.query(**filters)

    # --- preview ------------------------------------------------------------------------------------------------
    def preview(
        self,
        stack: str,
        *,
        user: str,
        targets: list[str] | None = None,
        refresh: bool = False,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
        kind: str = "update",
    ) -> PreviewResult:
        """Preview the changes to `stack` and save them (with the update plan and digests) under a preview_id."""
        check_stack_name(stack)
        targets = check_targets(stack, targets)
        params = {"targets": targets, "refresh": refresh, "kind": kind}
        tool = "preview" if kind == "update" else "preview-destroy"
        with self._operation(tool, stack, user, params, operation_id) as op:
            return self._preview(op, stack, targets, refresh, on_progress, kind)

    def _preview(
        self, op: _Op, stack: str, targets: list[str], refresh: bool, on_progress: ProgressCallback | None, kind: str
    ) -> PreviewResult:
        started = time.monotonic()
        handle = self._handle(op, stack)
        preview_id = str(uuid.uuid4())
        plan = self.previews.plan_path(preview_id)
        plan.parent.mkdir(parents=True, exist_ok=True)
        collector = _EventCollector(op, on_progress, None)
        # The state export (mode check, pending operations, state digest) and the secret config values run beside
        # the preview: it changes nothing, and a mode mismatch still refuses it before any result is returned.
        with ThreadPoolExecutor(max_workers=2) as pool:
            state_future = pool.submit(self._state, stack, handle)
            secrets_future = pool.submit(self._learn_secrets, op, handle)
            try:
                if kind == "update":
                    result = self._run(
                        op,
                        stack,
                        handle,
                        lambda: handle.preview(
                            on_event=collector,
                            target=targets or None,
                            refresh=refresh or None,
                            plan=str(plan),
                            diff=False,
                            **self._capture(op),
                        ),
                    )
                else:
                    result = self._run(
                        op,
                        stack,
                        handle,
                        lambda: handle.preview_destroy(
                            on_event=collector,
                            target=targets or None,
                            exclude_protected=not targets,
                            **self._capture(op),
                        ),
                    )
            finally:
                deployment, pending = state_future.result()
                secrets_future.result()
        summary = dict(result.change_summary)
        record = PreviewRecord(
            preview_id=preview_id,
            kind=kind,
            stack=stack,
            user=op.user,
            created_at=now(),
            created_epoch=time.time(),
            operation_id=op.id,
            targets=targets,
            digests=self._digests(stack, deployment),
            plan_file=plan.name if plan.exists() else None,  # relative to the previews dir: portable between runners
            plan_sha256=file_sha256(plan) if plan.exists() else None,
            change_summary=summary,
        )
        expires = datetime.fromtimestamp(record.created_epoch + self.settings.preview_ttl_seconds, UTC)
        preview = PreviewResult(
            preview_id=preview_id,
            operation_id=op.id,
            kind=kind,
            stack=stack,
            user=op.user,
            change_summary=summary,
            changes=sorted(collector.changes.values(), key=lambda c: c.urn),
            diagnostics=collector.diagnostics,
            policy_violations=collector.policy,
            pending_operations=pending,
            duration_seconds=round(time.monotonic() - started, 3),
            expires_at=expires.isoformat(timespec="seconds"),
        )
        preview = PreviewResult.model_validate(op.masker.obj(preview.model_dump()))
        record.result = preview.model_dump()
        self.previews.save(record)
        op.preview_id = preview_id
        op.summary = {"change_summary": summary, "changes": len(preview.changes)}
        return preview

    # --- approvals ----------------------------------------------------------------------------------------------
    def approve(self, preview_id: str, *, approver: str) -> Approval:
        """A signed, single-use approval of exactly this preview, by someone other than who asked for it."""
        preview = self.previews.get(preview_id)
        with self._operation("approve", preview.stack, approver, {"preview_id": preview_id}) as op:
            op.preview_id = preview_id
            self._check_fresh(preview)
            approval = self.approvals.create(preview, approver, self.settings.approval_ttl_seconds)
            op.approval_id = approval.approval_id
            return approval

    def _check_fresh(self, preview: PreviewRecord) -> None:
        age = time.time() - preview.created_epoch
        if age > self.settings.preview_ttl_seconds:
            raise StalePreview(
                f"preview {preview.preview_id} is {int(age)} s old (limit "
                f"{self.settings.preview_ttl_seconds} s); preview again",
                preview_id=preview.preview_id,
            )

    # --- up / destroy -------------------------------------------------------------------------------------------
    def up(
        self,
        stack: str,
        *,
        user: str,
        preview_id: str | None = None,
        approval_id: str | None = None,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> ApplyResult:
        """Dry run by default: without a preview_id and an approval it only previews. With them it applies exactly
        the approved preview, or refuses if anything changed since."""
        return self._apply("up", "update", stack, user, preview_id, approval_id, on_progress, operation_id)

    def destroy(
        self,
        stack: str,
        *,
        user: str,
        preview_id: str | None = None,
        approval_id: str | None = None,
        targets: list[str] | None = None,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> ApplyResult:
        """Like up: a destroy preview first; only its own approval destroys. Protected resources stay unless
        explicitly targeted."""
        if preview_id is None or approval_id is None:
            preview = self.preview(
                stack, user=user, targets=targets, on_progress=on_progress, kind="destroy", operation_id=operation_id
            )
            return self._dry_run(stack, preview)
        return self._apply("destroy", "destroy", stack, user, preview_id, approval_id, on_progress, operation_id)

    def _dry_run(self, stack: str, preview: PreviewResult) -> ApplyResult:
        verb = "up" if preview.kind == "update" else "destroy"
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

    def _apply(
        self,
        tool: str,
        kind: str,
        stack: str,
        user: str,
        preview_id: str | None,
        approval_id: str | None,
        on_progress: ProgressCallback | None,
        operation_id: str | None = None,
    ) -> ApplyResult:
        check_stack_name(stack)
        if preview_id is None or approval_id is None:
            return self._dry_run(
                stack, self.preview(stack, user=user, on_progress=on_progress, kind=kind, operation_id=operation_id)
            )
        params = {"preview_id": preview_id, "approval_id": approval_id}
        with self._operation(tool, stack, user, params, operation_id) as op:
            op.preview_id, op.approval_id = preview_id, approval_id
            with self.locks.hold(stack, operation_id=op.id, user=user, wait_seconds=self.settings.lock_wait_seconds):
                return self._apply_locked(op, kind, stack, preview_id, approval_id, on_progress)

    def _apply_locked(
        self, op: _Op, kind: str, stack: str, preview_id: str, approval_id: str, on_progress: ProgressCallback | None
    ) -> ApplyResult:
        started = time.monotonic()
        preview = self.previews.get(preview_id)
        if preview.stack != stack or preview.kind != kind:
            raise ApprovalInvalid(
                f"preview {preview_id} is a {preview.kind} preview of {preview.stack}, not a {kind} of {stack}",
                preview_id=preview_id,
            )
        approval = self.approvals.get(approval_id)
        self.approvals.check(approval, preview, kind)
        self._check_fresh(preview)
        handle = self._handle(op, stack)
        self._learn_secrets(op, handle)
        deployment, pending = self._state(stack, handle)
        if pending:
            raise PendingOperations(
                f"stack {stack!r} has {len(pending)} operation(s) left pending by an interrupted run: "
                f"{', '.join(pending)}. Run `datamcp refresh {stack} --apply --clear-pending-creates` "
                "after checking those resources in the cloud.",
                stack=stack,
                pending=pending,
            )
        changed = preview.digests.changed(self._digests(stack, deployment))
        if changed:
            raise StalePreview(
                f"the {' and '.join(changed)} changed since preview {preview_id}; preview again",
                preview_id=preview_id,
                changed=changed,
            )
        plan_path = self.previews.root / preview.plan_file if preview.plan_file else None
        if plan_path is not None and (not plan_path.exists() or file_sha256(plan_path) != preview.plan_sha256):
            raise StalePreview(f"the saved plan of preview {preview_id} is missing or altered", preview_id=preview_id)
        self.approvals.consume(approval_id, op.id)
        total = len(preview.result.get("changes", [])) or None
        collector = _EventCollector(op, on_progress, total)
        if kind == "update":
            result = self._run(
                op,
                stack,
                handle,
                lambda: handle.up(
                    on_event=collector,
                    plan=str(plan_path) if plan_path else None,
                    target=preview.targets or None,
                    show_secrets=False,
                    **self._capture(op),
                ),
            )
        else:
            result = self._run(
                op,
                stack,
                handle,
                lambda: handle.destroy(
                    on_event=collector,
                    target=preview.targets or None,
                    exclude_protected=not preview.targets,
                    show_secrets=False,
                    **self._capture(op),
                ),
            )
        outputs = getattr(result, "outputs", None) or {}
        op.masker.add(*(str(v.value) for v in outputs.values() if v.secret))
        # Self-managed backends number no updates (always 0): count the stack's history instead.
        op.update_version = result.summary.version or len(handle.history())
        summary = dict(result.summary.resource_changes or {})
        op.summary = {"change_summary": summary}
        applied = ApplyResult(
            applied=True,
            operation_id=op.id,
            stack=stack,
            change_summary=summary,
            changes=sorted(collector.changes.values(), key=lambda c: c.urn),
            outputs={k: SECRET if v.secret else v.value for k, v in sorted(outputs.items())},
            update_version=op.update_version,
            duration_seconds=round(time.monotonic() - started, 3),
            message=f"{kind} of {stack} applied (update {op.update_version})",
        )
        return ApplyResult.model_validate(op.masker.obj(applied.model_dump()))

    # --- refresh ------------------------------------------------------------------------------------------------
    def refresh(
        self,
        stack: str,
        *,
        user: str,
        preview_only: bool = True,
        clear_pending_creates: bool = False,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> RefreshResult:
        """Drift detection: which resources differ from the state. With preview_only=False the state is updated to
        what exists (the cloud is never changed by a refresh)."""
        check_stack_name(stack)
        params = {"preview_only": preview_only, "clear_pending_creates": clear_pending_creates}
        tool = "refresh" if not preview_only else "check-drift"
        with self._operation(tool, stack, user, params, operation_id) as op:
            if preview_only:
                return self._refresh(op, stack, True, False, on_progress)
            with self.locks.hold(stack, operation_id=op.id, user=user, wait_seconds=self.settings.lock_wait_seconds):
                return self._refresh(op, stack, False, clear_pending_creates, on_progress)

    def _refresh(
        self, op: _Op, stack: str, preview_only: bool, clear_pending: bool, on_progress: ProgressCallback | None
    ) -> RefreshResult:
        started = time.monotonic()
        handle = self._handle(op, stack)
        self._learn_secrets(op, handle)
        self._state(stack, handle)
        collector = _EventCollector(op, on_progress, None)
        if preview_only:
            result = self._run(
                op, stack, handle, lambda: handle.preview_refresh(on_event=collector, **self._capture(op))
            )
            summary = dict(result.change_summary)
        else:
            result = self._run(
                op,
                stack,
                handle,
                lambda: handle.refresh(
                    on_event=collector,
                    clear_pending_creates=clear_pending or None,
                    show_secrets=False,
                    **self._capture(op),
                ),
            )
            summary = dict(result.summary.resource_changes or {})
            op.update_version = result.summary.version or len(handle.history())
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

    def find_approval(self, preview_id: str) -> Approval:
        """The newest valid, unused approval of this preview (by someone other than who asked for it)."""
        preview = self.previews.get(preview_id)
        candidates = []
        for path in self.approvals.root.glob("*.json") if self.approvals.root.exists() else []:
            approval = self.approvals.get(path.stem)
            if approval.preview_id != preview_id:
                continue
            try:
                self.approvals.check(approval, preview, preview.kind)
            except ApprovalInvalid:
                continue
            candidates.append(approval)
        if not candidates:
            raise ApprovalRequired(
                f"preview {preview_id} has no valid approval; a person other than {preview.user} must run "
                f"`datamcp approve {preview_id}`",
                preview_id=preview_id,
                stack=preview.stack,
            )
        return max(candidates, key=lambda a: a.created_at)

    def apply_preview(
        self,
        preview_id: str,
        *,
        user: str,
        kind: str = "update",
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> ApplyResult:
        """Apply a preview with the approval another principal gave it (the agents' route: they never hold approval
        ids). Without one the refusal is recorded like any other."""
        preview = self.previews.get(preview_id)
        if preview.kind != kind:
            raise InvalidInput(f"preview {preview_id} is a {preview.kind} preview, not a {kind}")
        try:
            approval = self.find_approval(preview_id)
        except ApprovalRequired as refusal:
            self._record_refusal(
                "up" if kind == "update" else "destroy",
                preview.stack,
                user,
                {"preview_id": preview_id},
                refusal,
                operation_id,
            )
            raise
        run = self.up if kind == "update" else self.destroy
        return run(
            preview.stack,
            user=user,
            preview_id=preview_id,
            approval_id=approval.approval_id,
            on_progress=on_progress,
            operation_id=operation_id,
        )

    def _record_refusal(
        self, tool: str, stack: str, user: str, params: dict[str, Any], refusal: DataMcpError, operation_id: str | None
    ) -> None:
        """Put a refusal that happened before an operation could start on record, as a `refused` operation."""
        with contextlib.suppress(type(refusal)), self._operation(tool, stack, user, params, operation_id):
            raise refusal

    def request_apply(self, preview_id: str, *, user: str, reason: str) -> dict[str, Any]:
        """Record that `user` asks a human to approve this preview, and say exactly what the human must do."""
        preview = self.previews.get(preview_id)
        with self._operation("request-apply", preview.stack, user, {"preview_id": preview_id, "reason": reason}) as op:
            op.preview_id = preview_id
            self._check_fresh(preview)
            verb = "up" if preview.kind == "update" else "destroy"
            return {
                "operation_id": op.id,
                "preview_id": preview_id,
                "stack": preview.stack,
                "kind": preview.kind,
                "change_summary": preview.change_summary,
                "approve_command": f"datamcp approve {preview_id} --approver <your-name>",
                "apply_command": (
                    f"datamcp {verb} {preview.stack} --preview-id {preview_id} --approval-id <approval-id>"
                ),
                "ci_route": f"GitHub Actions: run the 'apply' workflow with stack={preview.stack} and "
                f"preview_id={preview_id}; the '{preview.stack}' environment's reviewers approve it",
                "expires_at": preview.result.get("expires_at"),
            }

    def request_cancel(self, operation_id: str) -> None:
        """Stop an operation the caller started itself (e.g. a client that cancelled its request), even if its audit
        record is not written yet: the marker is picked up when the operation starts its CLI."""
        self.cancel_dir.mkdir(parents=True, exist_ok=True)
        (self.cancel_dir / operation_id).write_text("requested")
        with self._running_lock:
            op = self._running.get(operation_id)
        if op is not None:
            self._interrupt(op)

    # --- cancel -------------------------------------------------------------------------------------------------
    def cancel(self, operation_id: str, *, user: str, admin: bool = False) -> OperationRecord:
        """Ask a running operation to stop gracefully (in this process or another one on this host)."""
        record = self.get_operation(operation_id)
        if record.status != "started":
            raise InvalidInput(f"operation {operation_id} is not running (it is {record.status})")
        if record.user != user and not admin:
            raise InvalidInput(
                f"operation {operation_id} belongs to {record.user}; only they or an admin may cancel it"
            )
        with self._running_lock:
            op = self._running.get(operation_id)
        self.cancel_dir.mkdir(parents=True, exist_ok=True)
        (self.cancel_dir / operation_id).write_text(user)
        if op is not None:
            self._interrupt(op)
        return record


def stack_infos() -> list[StackInfo]:
    """The registry's stacks as results (no CLI, no state: safe to call without an Engine)."""
    from stacks.registry import list_stacks

    return [
        StackInfo(
            name=s.name, cloud=s.cloud, environment=s.environment, description=s.description, config_file=s.config_file
        )
        for s in list_stacks()
    ]


def check_targets(stack: str, targets: list[str] | None) -> list[str]:
    """Targets must be URNs of this stack and project, with nothing a shell or the CLI could misread."""
    checked = []
    for target in targets or []:
        prefix = f"urn:pulumi:{stack}::{PROJECT}::"
        if (
            not isinstance(target, str)
            or not target.startswith(prefix)
            or len(target) > 1024
            or any(c.isspace() or ord(c) < 32 for c in target)
            or not target.isascii()
            or "::" not in target[len(prefix) :]
        ):
            raise InvalidInput(f"target {str(target)[:80]!r} is not a resource URN of stack {stack}", target=target)
        checked.append(target)
    return checked


def _last_error(text: str) -> str:
    """The most useful line of a CLI failure for a one-line message."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error:")]
    return (errors[-1] if errors else lines[-1] if lines else "unknown error")[:500]
