"""Task records in the shared store: a task started through one server replica can be fetched or cancelled
through another."""

from __future__ import annotations

import time

from engine.pgstore.database import Database
from engine.task_records import SWEEP_EVERY_SECONDS, TaskRecord
from engine.vocabulary import is_id


class PgTaskRecords:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._swept = 0.0

    def put(self, record: TaskRecord) -> None:
        """Store the record; now and then (after a write) the expired ones are removed."""
        self.db.execute(
            "INSERT INTO tasks (task_id, owner, data, expires_epoch) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (task_id) DO UPDATE SET data = excluded.data, updated_at = now()",
            record.task_id,
            record.owner,
            record.model_dump_json(),
            record.created_epoch + record.ttl_ms / 1000,
        )
        now = time.time()
        if now - self._swept >= SWEEP_EVERY_SECONDS:
            self._swept = now
            self.db.execute("DELETE FROM tasks WHERE expires_epoch < %s", now)

    def get(self, task_id: str) -> TaskRecord | None:
        if not is_id(task_id):
            return None
        row = self.db.one("SELECT data FROM tasks WHERE task_id = %s", task_id)
        if row is None:
            return None
        record = TaskRecord.model_validate_json(row[0])
        return record if record.task_id == task_id else None
