"""Cancellation: a request (from this process, another one on the host, or with the shared store another host)
interrupts the operation's CLI."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Protocol

from engine.audit import OperationRecord
from engine.errors import DataMcpError, InvalidInput, OperationNotFound
from engine.identity import same_principal
from engine.operations.context import OperationContext
from engine.operations.journal import Journal
from engine.vocabulary import Status, Tool, check_id, echo

POLL_SECONDS = 0.2
log = logging.getLogger(__name__)


class CancelRequests(Protocol):
    def put(self, operation_id: str, by: str) -> None: ...

    def exists(self, operation_id: str) -> bool: ...

    def clear(self, operation_id: str) -> None: ...


class FileCancelRequests:
    """One host: marker files named after the operation id, so another process can ask too."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _marker(self, operation_id: str) -> Path:
        return self.root / check_id(operation_id, "operation id")

    def put(self, operation_id: str, by: str) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self._marker(operation_id).write_text(by)

    def exists(self, operation_id: str) -> bool:
        return self._marker(operation_id).exists()

    def clear(self, operation_id: str) -> None:
        self._marker(operation_id).unlink(missing_ok=True)


class Cancellation:
    """Requests are kept where every process that may run the operation looks (files, or the shared store)."""

    def __init__(self, requests: CancelRequests, journal: Journal) -> None:
        self.requests = requests
        self.journal = journal
        journal.hooks(on_start=self.watch, on_end=self._cleared)

    def requested(self, operation_id: str) -> bool:
        return self.requests.exists(check_id(operation_id, "operation id"))

    def request(self, operation_id: str, by: str = "requested") -> None:
        """Ask the operation to stop; if it has not started its CLI yet, it stops when it does."""
        self.requests.put(check_id(operation_id, "operation id"), by)
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
        while self.journal.is_running(op.id):
            try:
                asked = self.requests.exists(op.id)
            except DataMcpError as exc:  # the store is down: keep watching
                log.warning("cannot read cancel requests for %s: %s", op.id, exc.message)
                asked = False
            if asked:
                interrupt(op)
                return
            time.sleep(POLL_SECONDS)

    def _cleared(self, op: OperationContext, status: Status) -> None:
        try:
            self.requests.clear(op.id)
        except DataMcpError as exc:
            log.warning("cannot clear the cancel request of %s: %s", op.id, exc.message)


def interrupt(op: OperationContext) -> None:
    if op.command is not None:
        op.command.interrupt()
