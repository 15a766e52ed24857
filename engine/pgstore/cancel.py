"""Cancel requests in the shared store: a request made on any host reaches the operation on the host running it."""

from __future__ import annotations

from engine.pgstore.database import Database


class PgCancelRequests:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, operation_id: str, by: str) -> None:
        self.db.execute(
            "INSERT INTO cancel_requests (operation_id, requested_by) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            operation_id,
            by,
        )

    def exists(self, operation_id: str) -> bool:
        return self.db.one("SELECT 1 FROM cancel_requests WHERE operation_id = %s", operation_id) is not None

    def clear(self, operation_id: str) -> None:
        self.db.execute("DELETE FROM cancel_requests WHERE operation_id = %s", operation_id)
