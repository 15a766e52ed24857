"""tasks/cancel for a task another server process runs: the cancel is left as an engine cancel request under the
task's id (files on one host, the shared store on many), and the process running the task looks for it at every
heartbeat. An apply waiting for approval has no operation yet, so asking its operation alone would not reach it."""

from __future__ import annotations

import contextlib

from engine.operations import Engine
from engine.task_records import TaskRecord


def ask(engine: Engine, record: TaskRecord) -> None:
    """Ask whichever process runs the task to stop it (and its operation, if it started one)."""
    engine.request_cancel(record.task_id)
    if record.operation_id is not None:
        engine.request_cancel(record.operation_id)


def asked(engine: Engine, task_id: str) -> bool:
    return engine.parts.cancellation.requested(task_id)


def forget(engine: Engine, task_id: str) -> None:
    """The task ended: its request, if any, is spent."""
    with contextlib.suppress(Exception):
        engine.parts.cancellation.requests.clear(task_id)
