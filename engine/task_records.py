"""Records of long calls run in the background (MCP tasks, docs/mcp.md): who started what, how far it got, and
its result or error, kept in the engine's store so a client that reconnects, or another server process, can
fetch them. Files under the state dir on one host; the shared store's `tasks` table on many (engine/pgstore)."""

from __future__ import annotations

import contextlib
import math
import os
import socket
import stat
import threading
import time
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field

from engine.store_files import UnsafeFile, read_regular, write_atomic
from engine.vocabulary import is_id

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]
FINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
SWEEP_EVERY_SECONDS = 600.0  # expired records are removed at most this often, beside a write


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
    """One private file per task, 0600 in a 0700 folder of this process's user: results are the owner's, and a
    folder someone else made (or a link to one) is neither written nor read, so nobody plants a record there.
    Expired records are removed now and then beside a write."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._swept = -math.inf

    def put(self, record: TaskRecord) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not private_folder(self.root):
            raise UnsafeFile(f"{self.root} is not a folder private to this user: task records are not kept there")
        write_atomic(self.root / f"{record.task_id}.json", record.model_dump_json(), mode=0o600)
        if time.monotonic() - self._swept >= SWEEP_EVERY_SECONDS:
            self._swept = time.monotonic()
            threading.Thread(target=self.sweep, args=(time.time(),), daemon=True).start()

    def get(self, task_id: str) -> TaskRecord | None:
        if not is_id(task_id) or not private_folder(self.root):
            return None
        try:
            record = TaskRecord.model_validate_json(read_regular(self.root / f"{task_id}.json"))
        except (OSError, UnsafeFile, ValueError):
            return None
        return record if record.task_id == task_id else None

    def sweep(self, now: float) -> None:
        """Remove the records that expired by `now` (nobody is shown them any more)."""
        for path in self.root.glob("*.json"):
            record = self.get(path.stem)
            if record is not None and record.expired(now):
                with contextlib.suppress(OSError):
                    path.unlink()


def private_folder(path: Path) -> bool:
    """A real folder (no link) of this process's user, made 0700 again if it was opened up (a volume's fsGroup
    does that on every mount); one of another user is not private, whatever its mode."""
    try:
        info = os.lstat(path)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            return False
        if stat.S_IMODE(info.st_mode) != 0o700:
            os.chmod(path, 0o700)
    except OSError:
        return False
    return True
