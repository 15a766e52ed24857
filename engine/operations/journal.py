"""The journal: no `started` record, no operation; every operation ends with exactly one final record."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pulumi import automation as auto

from engine.audit import OUTPUT_LIMIT, now
from engine.audit.trail import AuditTrail
from engine.errors import (
    AuditUnavailable,
    DataMcpError,
    InvalidIdentity,
    OperationCancelled,
    OperationFailed,
    Outcome,
)
from engine.identity import normalize_principal
from engine.operations.context import OperationContext
from engine.operations.failures import last_error
from engine.operations.liveness import HostRunning, Running
from engine.vocabulary import Status, echo

log = logging.getLogger(__name__)
EndHook = Callable[[OperationContext, Status], None]


def outcome_of(exc: BaseException) -> tuple[Status, str]:
    """The final status and error text an exception gives an operation (typed errors carry their own outcome)."""
    if isinstance(exc, DataMcpError):
        return Status(exc.outcome.value), exc.message
    return Status.FAILED, f"{type(exc).__name__}: {exc}"


def typed_instead(op: OperationContext, exc: BaseException) -> DataMcpError | None:
    """The typed error a raw failure stands for. A failure of an interrupted operation is its cancellation, wherever
    the interrupt landed (stack selection, config read, state export, the run itself); refusals stay refusals; a
    CLI failure outside the run (a wrong passphrase while reading config) is a plain, masked OperationFailed."""
    interrupted = op.command is not None and op.command.interrupted
    failure = not isinstance(exc, DataMcpError) or isinstance(exc, OperationFailed)
    if interrupted and failure and isinstance(exc, Exception):
        return OperationCancelled(f"operation {op.id} was cancelled", operation_id=op.id)
    if isinstance(exc, auto.CommandError):
        message = last_error(str(exc), op.masker.text)
        return OperationFailed(f"{op.tool} of {op.stack} failed: {message}", operation_id=op.id, stack=op.stack)
    return None


class Journal:
    """Writes each operation's records and knows which operations of this process are running."""

    def __init__(self, audit: AuditTrail, registry: Running | None = None) -> None:
        self.audit = audit
        self.registry = registry or HostRunning()
        self._running: dict[str, OperationContext] = {}
        self._lock = threading.Lock()
        self._on_start: list[Callable[[OperationContext], None]] = []
        self._on_end: list[EndHook] = []

    def hooks(self, *, on_start: Callable[[OperationContext], None], on_end: EndHook) -> None:
        self._on_start.append(on_start)
        self._on_end.append(on_end)

    def running(self, operation_id: str) -> OperationContext | None:
        with self._lock:
            return self._running.get(operation_id)

    def is_running(self, operation_id: str) -> bool:
        return self.running(operation_id) is not None

    @contextmanager
    def operation(
        self, tool: str, stack: str | None, user: str, params: dict[str, Any], operation_id: str | None = None
    ) -> Iterator[OperationContext]:
        """Audit an operation: AuditUnavailable on the `started` record (a store down, or a chain its anchor does not
        vouch for) propagates, and nothing ran."""
        op = OperationContext(tool=tool, stack=stack, user=self._identity(tool, stack, user, params), params=params)
        if operation_id:
            op.id = operation_id
        self.registry.register(op.id, stack)  # before `started`: a live operation is never taken for a dead one
        try:
            op.started_seq = self.audit.append(op.record(Status.STARTED)).seq
        except BaseException:
            self.registry.unregister(op.id)
            raise
        with self._lock:
            self._running[op.id] = op
        for hook in self._on_start:
            hook(op)
        status, error = Status.SUCCEEDED, None
        with op.held:  # what the operation took (its stack's lock) is let go only once its final record is written
            try:
                yield op
            except BaseException as exc:
                typed = typed_instead(op, exc)
                status, error = outcome_of(typed or exc)
                self._finish(op, status, error)
                if typed is not None:
                    raise typed from None
                raise
            self._finish(op, status, error, raise_unwritten=True)

    def _identity(self, tool: str, stack: str | None, user: str, params: dict[str, Any]) -> str:
        """The caller in normal form; an unusable identity is refused, and the refusal is on record."""
        try:
            return normalize_principal(user)
        except InvalidIdentity as exc:
            op = OperationContext(tool=tool, stack=stack, user="(invalid identity)", params=params)
            op.summary = {"claimed_user": echo(user)}
            self.audit.append(op.record(Status.STARTED))
            self.audit.append(op.record(Status.REFUSED, exc.message))
            raise

    def _finish(
        self, op: OperationContext, status: Status, error: str | None, *, raise_unwritten: bool = False
    ) -> None:
        """Write the final record; if the store cannot take it, it is spooled, and a finished operation says so
        (an operation that already failed keeps its own error, with the audit problem logged)."""
        with self._lock:
            self._running.pop(op.id, None)
        for hook in self._on_end:
            hook(op, status)
        full = op.full_output()
        unwritten = self.audit.append_or_spool(op.record(status, error), full if len(full) > OUTPUT_LIMIT else None)
        self.registry.unregister(op.id)
        if unwritten is None:
            return
        log.error("operation %s ended %s but its audit record was not written: %s", op.id, status, unwritten)
        if raise_unwritten:
            raise AuditUnavailable(
                f"{op.tool} of {op.stack or '-'} {status.value} (operation {op.id}), but its audit record could not "
                f"be written: {unwritten}",
                operation_id=op.id,
                outcome=status.value,
            )

    def record_refusal(
        self, tool: str, stack: str, user: str, params: dict[str, Any], refusal: DataMcpError, operation_id: str | None
    ) -> None:
        """Put a refusal that happened before an operation could start on record, as a `refused` operation."""
        assert refusal.outcome is Outcome.REFUSED
        with contextlib.suppress(type(refusal)), self.operation(tool, stack, user, params, operation_id):
            raise refusal

    def mark_interrupted(self) -> list[str]:
        """Operations left `started` by a process that is gone are recorded `interrupted`; not on a chain the anchor
        does not vouch for (the engine still starts, so that `datamcp ops verify` and `ops reinit` can run)."""
        problem = self.audit.continuity_problem()
        if problem is not None:
            log.warning("interrupted operations are not marked: %s", problem)
            return []
        candidates = [r for r in self.audit.running() if not self.is_running(r.id)]
        dead = self.registry.dead(candidates)
        return [
            r.id for r in dead if self._interrupt(r.id, "the process running this operation ended before it finished")
        ]

    def lease_expired(self, operation_id: str) -> bool:
        """The holder of a stack's lease stopped renewing it: its operation, if still `started`, is interrupted."""
        reason = "its lease on the stack expired: the process running it died or lost the store"
        return not self.is_running(operation_id) and self._interrupt(operation_id, reason)

    def _interrupt(self, operation_id: str, reason: str) -> bool:
        latest = self.audit.get(operation_id)
        if latest is None or latest.status != Status.STARTED:  # it ended meanwhile
            return False
        self.audit.append(latest.model_copy(update={"status": Status.INTERRUPTED, "end_ts": now(), "error": reason}))
        return True
