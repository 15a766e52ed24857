"""One running operation: who runs what, what it saw and touched, and how that becomes an audit record."""

from __future__ import annotations

import os
import socket
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from pulumi import automation as auto

from engine.audit import OUTPUT_LIMIT, OperationRecord, now
from engine.locking import HELD, Fence
from engine.masking import Masker, bounded
from engine.runner import InterruptiblePulumiCommand
from engine.vocabulary import Status

HOST = socket.gethostname()


@dataclass
class OperationContext:
    """The state of one running operation, filled in as it goes and written to the audit trail at the end."""

    tool: str
    stack: str | None
    user: str
    params: dict[str, Any]
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    start_ts: str = field(default_factory=now)
    masker: Masker = field(default_factory=Masker)
    command: InterruptiblePulumiCommand | None = None
    handle: auto.Stack | None = None
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    resource_refs: set[str] = field(default_factory=set)
    preview_id: str | None = None
    approval_id: str | None = None
    update_version: int | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    started_seq: int = 0  # the place of its `started` record in the audit chain (0: not written yet)
    fence: Fence = HELD  # the stack lock's fence, checked right before the CLI runs
    # What the operation holds until its final record is written (its stack's lock): the next holder of the lock
    # finds the write on record (engine/operations/on_record.py), not a gap in which it is not yet.
    held: ExitStack = field(default_factory=ExitStack)

    def capture(self) -> dict[str, Any]:
        """Keyword arguments that route a CLI call's output into this operation."""
        return {"on_output": self.stdout.append, "on_error": self.stderr.append, "color": "never"}

    def full_output(self) -> str:
        return self.masker.text("\n".join(self.stdout + self.stderr))

    def record(self, status: Status, error: str | None = None) -> OperationRecord:
        """The audit record of this operation in `status`, every string masked and output bounded."""
        stdout, cut_out = bounded(self.masker.text("\n".join(self.stdout)), OUTPUT_LIMIT)
        stderr, cut_err = bounded(self.masker.text("\n".join(self.stderr)), OUTPUT_LIMIT)
        return OperationRecord(
            id=self.id,
            user=self.user,
            tool=self.tool,
            stack=self.stack,
            params=self.masker.obj(self.params),
            status=status,
            start_ts=self.start_ts,
            end_ts=None if status is Status.STARTED else now(),
            stdout=stdout,
            stderr=stderr,
            output_truncated=cut_out or cut_err,
            error=self.masker.text(error) if error else None,
            resource_refs=sorted(self.resource_refs),
            preview_id=self.preview_id,
            approval_id=self.approval_id,
            update_version=self.update_version,
            summary=self.masker.obj(self.summary),
            host=HOST,
            pid=os.getpid(),
        )
