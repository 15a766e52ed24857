"""Task records in the shared store: a task started through one server replica can be fetched or cancelled
through another."""

from __future__ import annotations

from engine.pgstore.database import Database
from engine.task_records import TaskRecord
from engine.vocabulary import is_id


class PgTaskRecords:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, record: TaskRecord) -> None:
        self.db.execute(
            "INSERT INTO tasks (task_id, owner, data) VALUES (%s, %s, %s) "
            "ON CONFLICT (task_id) DO UPDATE SET data = excluded.data, updated_at = now()",
            record.task_id,
            record.owner,
            record.model_dump_json(),
        )

    def get(self, task_id: str) -> TaskRecord | None:
        if not is_id(task_id):
            return None
        row = self.db.one("SELECT data FROM tasks WHERE task_id = %s", task_id)
        if row is None:
            return None
        record = TaskRecord.model_validate_json(row[0])
        return record if record.task_id == task_id else None
