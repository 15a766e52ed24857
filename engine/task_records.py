"""Records of long calls run in the background (MCP tasks, docs/mcp.md): who started what, how far it got, and
its result or error, kept in the engine's store so a client that reconnects, or another server process, can
fetch them. Files under the state dir on one host; the shared store's `tasks` table on many (engine/pgstore)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from engine.store_files import UnsafeFile, ensure_dir, read_regular, write_atomic
from engine.vocabulary import is_id

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
FINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


class TaskRecord(BaseModel):
    task_id: str
    owner: str = Field(description="The principal that started it: the only one who may read or cancel it.")
    tool: str
    status: TaskStatus = "working"
    status_message: str | None = None
    created_epoch: float = Field(default_factory=time.time)
    updated_epoch: float = Field(default_factory=time.time, description="Renewed while it runs (a heartbeat).")
    ttl_ms: int = Field(description="How long the record is kept after it was created.")
    done: int = 0
    total: int | None = None
    operation_id: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = None
    host: str = Field(default_factory=socket.gethostname)
    pid: int = Field(default_factory=os.getpid)

    @property
    def final(self) -> bool:
        return self.status in FINAL

    def expired(self, now: float) -> bool:
        return now > self.created_epoch + self.ttl_ms / 1000


class TaskRecords(Protocol):
    def put(self, record: TaskRecord) -> None: ...

    def get(self, task_id: str) -> TaskRecord | None: ...


class FileTaskRecords:
    """One private file per task (0600 in a 0700 folder: results are the owner's)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, record: TaskRecord) -> None:
        ensure_dir(self.root, 0o700)
        write_atomic(self.root / f"{record.task_id}.json", record.model_dump_json(), mode=0o600)

    def get(self, task_id: str) -> TaskRecord | None:
        if not is_id(task_id):
            return None
        try:
            record = TaskRecord.model_validate_json(read_regular(self.root / f"{task_id}.json"))
        except (OSError, UnsafeFile, ValueError):
            return None
        return record if record.task_id == task_id else None
