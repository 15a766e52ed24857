"""Cancellation: a request (from this process or another one on the host) interrupts the operation's CLI."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from engine.audit import OperationRecord
from engine.errors import InvalidInput, OperationNotFound
from engine.identity import same_principal
from engine.operations.context import OperationContext
from engine.operations.journal import Journal
from engine.vocabulary import Status, Tool, check_id, echo

POLL_SECONDS = 0.2


class Cancellation:
    """Requests are marker files named after the operation id, so another process can ask too."""

    def __init__(self, root: Path, journal: Journal) -> None:
        self.root = root
        self.journal = journal
        journal.hooks(on_start=self.watch, on_end=self._cleared)

    def _marker(self, operation_id: str) -> Path:
        return self.root / check_id(operation_id, "operation id")

    def requested(self, operation_id: str) -> bool:
        return self._marker(operation_id).exists()

    def request(self, operation_id: str, by: str = "requested") -> None:
        """Ask the operation to stop; if it has not started its CLI yet, it stops when it does."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._marker(operation_id).write_text(by)
        op = self.journal.running(operation_id)
        if op is not None:
            interrupt(op)

    def cancel(self, operation_id: str, *, user: str, admin: bool) -> OperationRecord:
        """Ask a running operation (in this process or another on this host) to stop: its owner or a proven admin.
        The request itself is an operation on record, naming who asked."""
        record = self.journal.audit.get(check_id(operation_id, "operation id"))
        if record is None:
            raise OperationNotFound(f"no operation {echo(operation_id)}", operation_id=operation_id)
        params = {"operation_id": operation_id, "as_admin": admin}
        with self.journal.operation(Tool.CANCEL, record.stack, user, params) as op:
            if record.status != Status.STARTED:
                raise InvalidInput(f"operation {operation_id} is not running (it is {record.status})")
            if not admin and not same_principal(record.user, op.user):
                owner = record.user
                raise InvalidInput(f"operation {operation_id} belongs to {owner}; only they or an admin may cancel it")
            self.request(operation_id, by=op.user)
        return record

    def watch(self, op: OperationContext) -> None:
        """Watch for a request made by another process while `op` runs here."""
        threading.Thread(target=self._watch, args=(op,), daemon=True).start()

    def _watch(self, op: OperationContext) -> None:
        marker = self._marker(op.id)
        while self.journal.is_running(op.id):
            if marker.exists():
                interrupt(op)
                return
            time.sleep(POLL_SECONDS)

    def _cleared(self, op: OperationContext, status: Status) -> None:
        self._marker(op.id).unlink(missing_ok=True)


def interrupt(op: OperationContext) -> None:
    if op.command is not None:
        op.command.interrupt()
