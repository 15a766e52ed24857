"""The SQLite audit store: the embedded default. WAL mode; appends take a write lock (BEGIN IMMEDIATE), so several
processes can share one file and the chain stays linear."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from engine.audit import GENESIS, Indexed, OperationRecord, Page, VerifyReport, check_limit
from engine.audit.checkpoints import Checkpoint
from engine.audit.rows import (
    chained_records,
    checkpoint_query,
    index_problems,
    page_of,
    page_query,
    range_query,
    read_index,
)
from engine.audit.walk import Row, walk
from engine.errors import AuditUnavailable

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    op_id TEXT NOT NULL,
    data TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_op ON records(op_id);
CREATE TABLE IF NOT EXISTS operations (
    op_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    stack TEXT,
    user TEXT NOT NULL,
    status TEXT NOT NULL,
    start_ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS operations_stack ON operations(stack, seq);
CREATE INDEX IF NOT EXISTS operations_user ON operations(user, seq);
CREATE INDEX IF NOT EXISTS operations_status ON operations(status, seq);
CREATE INDEX IF NOT EXISTS operations_seq ON operations(seq);
CREATE TABLE IF NOT EXISTS attachments (
    op_id TEXT PRIMARY KEY,
    text TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS checkpoints (
    seq INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
"""


class SqliteAuditStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._conn() as conn:
                conn.executescript(SCHEMA)
            info = self.path.stat()
            self._identity = (info.st_dev, info.st_ino)
        except (OSError, sqlite3.Error) as exc:
            raise AuditUnavailable(f"cannot open the audit database {self.path}: {exc}") from exc

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def append(self, record: OperationRecord, attachment: str | None = None) -> OperationRecord:
        try:
            conn = self._conn()
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._check_same_file()
                row = conn.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
                stored = record.model_copy(update={"seq": seq, "prev_hash": prev, "hash": ""})
                stored = stored.model_copy(update={"hash": stored.digest()})
                conn.execute(
                    "INSERT INTO records (seq, op_id, data, hash) VALUES (?, ?, ?, ?)",
                    (seq, stored.id, stored.model_dump_json(), stored.hash),
                )
                conn.execute(
                    "INSERT INTO operations (op_id, seq, stack, user, status, start_ts) VALUES (?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT(op_id) DO UPDATE SET seq=excluded.seq, status=excluded.status",
                    (stored.id, seq, stored.stack, stored.user, stored.status, stored.start_ts),
                )
                if attachment is not None:
                    conn.execute(
                        "INSERT OR REPLACE INTO attachments (op_id, text) VALUES (?, ?)", (stored.id, attachment)
                    )
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):  # a failed COMMIT may have ended the transaction already
                    conn.execute("ROLLBACK")
                raise
        except (sqlite3.Error, OSError) as exc:
            raise AuditUnavailable(f"cannot write the audit record: {exc}") from exc
        return stored

    def _check_same_file(self) -> None:
        """A database file removed or replaced under an open connection must not silently take writes."""
        try:
            now = self.path.stat()
        except FileNotFoundError:
            raise AuditUnavailable(f"the audit database {self.path} was removed while in use") from None
        if (now.st_dev, now.st_ino) != self._identity:
            raise AuditUnavailable(f"the audit database {self.path} was replaced while in use")

    def _record(self, seq: int) -> OperationRecord:
        row = self._conn().execute("SELECT data FROM records WHERE seq = ?", (seq,)).fetchone()
        return OperationRecord.model_validate_json(row[0])

    def get(self, operation_id: str) -> OperationRecord | None:
        try:
            row = self._conn().execute("SELECT seq FROM operations WHERE op_id = ?", (operation_id,)).fetchone()
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc
        return self._record(row[0]) if row else None

    def query(
        self,
        *,
        stack: str | None = None,
        user: str | None = None,
        status: str | None = None,
        since: str | None = None,
        until: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        limit = check_limit(limit)
        sql, args = page_query(
            "?",
            "user",
            {"stack": stack, "user": user, "status": status, "since": since, "until": until, "cursor": cursor},
        )
        try:
            rows = self._conn().execute(sql, [*args, limit + 1]).fetchall()
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc
        return page_of(rows, limit)

    def attachment(self, operation_id: str) -> str | None:
        row = self._conn().execute("SELECT text FROM attachments WHERE op_id = ?", (operation_id,)).fetchone()
        return str(row[0]) if row else None

    def running(self) -> list[OperationRecord]:
        rows = (
            self._conn()
            .execute("SELECT r.data FROM operations o JOIN records r ON r.seq = o.seq WHERE o.status = 'started'")
            .fetchall()
        )
        return [OperationRecord.model_validate_json(r[0]) for r in rows]

    def records(self, first: int = 1, last: int | None = None) -> list[OperationRecord]:
        """Records `first` to `last` (every one by default) in sequence order; one whose stored hash or position
        disagrees with its data is marked."""
        sql, bounds = range_query("?", first, last)
        try:
            rows = self._conn().execute(sql, bounds).fetchall()
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc
        return chained_records(rows)

    def rows(self, first: int = 1, last: int | None = None) -> Iterator[Row]:
        """Records `first` to `last` as stored, (seq, data, hash) in sequence order, read as they are used."""
        sql, bounds = range_query("?", first, last)
        try:
            yield from self._conn().execute(sql, bounds)
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc

    def index_problems(self, latest: Mapping[str, Indexed], after: int = 0) -> list[str]:
        """Where the operations index (what queries read) disagrees with the chained records: `latest` holds each
        operation's newest record (after record `after`: then only those operations' index rows, and the rows
        pointing past `after`, are compared)."""
        conn = self._conn()
        try:
            indexed = read_index(lambda sql, args: conn.execute(sql, args).fetchall(), "?", "user", after, list(latest))
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc
        return index_problems(indexed, latest)

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        try:
            self._conn().execute(
                "INSERT OR REPLACE INTO checkpoints (seq, data) VALUES (?, ?)",
                (checkpoint.seq, checkpoint.model_dump_json()),
            )
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot write the audit checkpoint: {exc}") from exc

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._conn().execute("SELECT data FROM checkpoints ORDER BY seq").fetchall()
        return [Checkpoint.model_validate_json(r[0]) for r in rows]

    def checkpoint_rows(self, first: int = 0) -> Iterator[tuple[int, str]]:
        """The checkpoints from record `first` on as stored, (seq, data) in sequence order, read as they are used."""
        try:
            yield from self._conn().execute(checkpoint_query("?"), (first,))
        except sqlite3.Error as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc

    def head(self) -> tuple[int, str]:
        row = self._conn().execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def verify(self) -> VerifyReport:
        return walk(self.rows())

    def raw(self, sql: str, *args: Any) -> list[Any]:
        """Direct SQL, for tests that tamper with the store on purpose."""
        return self._conn().execute(sql, args).fetchall()

    def dump(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self._conn().execute("SELECT data FROM records ORDER BY seq")]
