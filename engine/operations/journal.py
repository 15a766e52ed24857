"""The journal: no `started` record, no operation; every operation ends with exactly one final record."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from engine.audit import OUTPUT_LIMIT, AuditStore, now
from engine.errors import DataMcpError, InvalidIdentity, Outcome
from engine.identity import normalize_principal
from engine.locking import pid_alive
from engine.operations.context import HOST, OperationContext
from engine.vocabulary import Status, echo

EndHook = Callable[[OperationContext, Status], None]


def outcome_of(exc: BaseException) -> tuple[Status, str]:
    """The final status and error text an exception gives an operation (typed errors carry their own outcome)."""
    if isinstance(exc, DataMcpError):
        return Status(exc.outcome.value), exc.message
    return Status.FAILED, f"{type(exc).__name__}: {exc}"


class Journal:
    """Writes each operation's records and knows which operations of this process are running."""

    def __init__(self, audit: AuditStore) -> None:
        self.audit = audit
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
        """Audit an operation: AuditUnavailable on the `started` record propagates, and nothing ran."""
        op = OperationContext(tool=tool, stack=stack, user=self._identity(tool, stack, user, params), params=params)
        if operation_id:
            op.id = operation_id
        self.audit.append(op.record(Status.STARTED))
        with self._lock:
            self._running[op.id] = op
        for hook in self._on_start:
            hook(op)
        status, error = Status.SUCCEEDED, None
        try:
            yield op
        except BaseException as exc:
            status, error = outcome_of(exc)
            raise
        finally:
            self._finish(op, status, error)

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

    def _finish(self, op: OperationContext, status: Status, error: str | None) -> None:
        with self._lock:
            self._running.pop(op.id, None)
        for hook in self._on_end:
            hook(op, status)
        full = op.full_output()
        self.audit.append(op.record(status, error), attachment=full if len(full) > OUTPUT_LIMIT else None)

    def record_refusal(
        self, tool: str, stack: str, user: str, params: dict[str, Any], refusal: DataMcpError, operation_id: str | None
    ) -> None:
        """Put a refusal that happened before an operation could start on record, as a `refused` operation."""
        assert refusal.outcome is Outcome.REFUSED
        with contextlib.suppress(type(refusal)), self.operation(tool, stack, user, params, operation_id):
            raise refusal

    def mark_interrupted(self) -> list[str]:
        """Operations left `started` by a process on this host that is gone are recorded as `interrupted`."""
        marked = []
        for record in self.audit.running():
            if record.host == HOST and record.pid != os.getpid() and not pid_alive(record.pid):
                update = {
                    "status": Status.INTERRUPTED,
                    "end_ts": now(),
                    "error": "the process running this operation ended before it finished",
                }
                self.audit.append(record.model_copy(update=update))
                marked.append(record.id)
        return marked
