"""The task a tool body runs in, if any: who started it, and where its progress and operation id go. A tool body
asks `current_task()`; the runtime sends progress to the task record instead of a request that has ended."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from engine.access import Principal
from engine.results import ProgressEvent
from engine.task_records import TaskRecord, TaskRecords
from engine.vocabulary import ProgressKind, urn_name

PROGRESS_EVERY_SECONDS = 0.5  # the record is rewritten at most this often for progress alone
TASK_TOOLS = frozenset({"preview", "apply", "check_drift", "destroy"})  # the tools that may run as tasks


@dataclass
class TaskHandle:
    record: TaskRecord
    principal: Principal
    records: TaskRecords
    done: int = 0
    total: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _saved: float = 0.0

    def save(self, **changes: Any) -> TaskRecord:
        """Change the record and store it, with the progress so far (from the event loop or the engine's thread)."""
        with self._lock:
            update = {"done": self.done, "total": self.total, **changes, "updated_epoch": time.time()}
            self.record = self.record.model_copy(update=update)
            self.records.put(self.record)
            self._saved = time.monotonic()
            return self.record

    def bind_operation(self, operation_id: str) -> None:
        self.save(operation_id=operation_id)

    def __call__(self, event: ProgressEvent) -> None:
        """The engine's progress (on its thread): done/total and what is happening, in the status message."""
        if event.kind not in (ProgressKind.RESOURCE_STARTED, ProgressKind.RESOURCE_FINISHED):
            return
        self.done, self.total = event.done, event.total or self.total
        total = f" of {self.total}" if self.total else ""
        message = f"{self.record.tool}: {self.done}{total} resources done; {event.op} {urn_name(event.urn or '')}"
        if time.monotonic() - self._saved >= PROGRESS_EVERY_SECONDS:
            self.save(status_message=message)

    @contextlib.asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Progress is written as it comes: nothing to pump."""
        yield


CURRENT_TASK: ContextVar[TaskHandle | None] = ContextVar("datamcp_current_task", default=None)


def current_task() -> TaskHandle | None:
    return CURRENT_TASK.get()
