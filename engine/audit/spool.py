"""The spool: audit records that could not be written (disk full, store down) wait here, in order, until the store
takes them, so an operation's real outcome is never lost."""

from __future__ import annotations

import os
import time
from pathlib import Path

from pydantic import BaseModel

from engine.audit import OperationRecord


class Spooled(BaseModel):
    record: OperationRecord
    attachment: str | None = None
    cause: str


class Spool:
    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, record: OperationRecord, attachment: str | None, cause: str) -> Path:
        """Keep a record for later; raises OSError when even this cannot be written."""
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = self.root / f"{time.time_ns():020d}-{record.id}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(Spooled(record=record, attachment=attachment, cause=cause).model_dump_json())
            f.flush()
            os.fsync(f.fileno())
        return path

    def pending(self) -> list[tuple[Path, Spooled]]:
        """The waiting records, oldest first."""
        found = []
        for path in sorted(self.root.glob("*.json")) if self.root.exists() else []:
            try:
                found.append((path, Spooled.model_validate_json(path.read_text())))
            except (OSError, ValueError):
                continue
        return found
