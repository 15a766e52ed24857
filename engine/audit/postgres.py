"""The PostgreSQL audit store: the same chain, index, checkpoints and verify as SQLite, for many hosts sharing one
database (RDS, Cloud SQL, any PostgreSQL). Appends are serialised across hosts by a transaction-scoped advisory
lock, so the chain stays linear. The schema is versioned (engine/pgstore/schema.py) and migrated when the store
opens; a database that cannot be reached fails closed (AuditUnavailable)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout

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
from engine.pgstore.database import Database

STREAM_ROWS = 2000  # rows a server-side cursor hands over at a time
APPEND_LOCK = 0x6461_7461_6D63_70  # "datamcp": the advisory lock every appender takes
INDEX = (  # an operation's row in the index: its latest record
    'INSERT INTO operations (op_id, seq, stack, "user", status, start_ts) VALUES (%s, %s, %s, %s, %s, %s) '
    "ON CONFLICT (op_id) DO UPDATE SET seq = excluded.seq, status = excluded.status"
)


class PostgresAuditStore:
    def __init__(self, url: str, *, pool_size: int = 4) -> None:
        self.url = url
        self.db = Database(url, error=AuditUnavailable, pool_size=pool_size)
        self._read, self._write = self.db.read, self.db.write

    def append(self, record: OperationRecord, attachment: str | None = None) -> OperationRecord:
        def write(cur: psycopg.Cursor[Any]) -> OperationRecord:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            row = cur.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
            stored = record.model_copy(update={"seq": seq, "prev_hash": prev, "hash": ""})
            stored = stored.model_copy(update={"hash": stored.digest()})
            cur.execute(
                "INSERT INTO records (seq, op_id, data, hash) VALUES (%s, %s, %s, %s)",
                (seq, stored.id, stored.model_dump_json(), stored.hash),
            )
            cur.execute(INDEX, (stored.id, seq, stored.stack, stored.user, stored.status, stored.start_ts))
            if attachment is not None:
                cur.execute(
                    "INSERT INTO attachments (op_id, text) VALUES (%s, %s) "
                    "ON CONFLICT (op_id) DO UPDATE SET text = excluded.text",
                    (stored.id, attachment),
                )
            return stored

        return self._write(write)

    def adopt(self, records: list[OperationRecord], attachments: dict[str, str], checkpoints: list[Checkpoint]) -> None:
        """Take over another store's chain as it is (same seq, hashes and signed checkpoints, so it verifies as
        before): only into an empty store, in one transaction."""

        def write(cur: psycopg.Cursor[Any]) -> None:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            if cur.execute("SELECT count(*) FROM records").fetchone() != (0,):
                raise AuditUnavailable("the PostgreSQL audit store holds records already: a chain is adopted only once")
            for r in records:
                cur.execute(
                    "INSERT INTO records (seq, op_id, data, hash) VALUES (%s, %s, %s, %s)",
                    (r.seq, r.id, r.model_dump_json(), r.hash),
                )
            for r in {r.id: r for r in records}.values():  # the latest record of each operation
                cur.execute(INDEX, (r.id, r.seq, r.stack, r.user, r.status, r.start_ts))
            for op_id, text in attachments.items():
                cur.execute("INSERT INTO attachments (op_id, text) VALUES (%s, %s)", (op_id, text))
            for c in checkpoints:
                cur.execute("INSERT INTO checkpoints (seq, data) VALUES (%s, %s)", (c.seq, c.model_dump_json()))

        self._write(write)

    def get(self, operation_id: str) -> OperationRecord | None:
        row = self._read(
            lambda cur: cur.execute(
                "SELECT r.data FROM operations o JOIN records r ON r.seq = o.seq WHERE o.op_id = %s", (operation_id,)
            ).fetchone()
        )
        return OperationRecord.model_validate_json(row[0]) if row else None

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
            "%s",
            '"user"',
            {"stack": stack, "user": user, "status": status, "since": since, "until": until, "cursor": cursor},
        )
        rows = self._read(lambda cur: cur.execute(sql, [*args, limit + 1]).fetchall())
        return page_of(rows, limit)

    def attachment(self, operation_id: str) -> str | None:
        row = self._read(
            lambda cur: cur.execute("SELECT text FROM attachments WHERE op_id = %s", (operation_id,)).fetchone()
        )
        return str(row[0]) if row else None

    def running(self) -> list[OperationRecord]:
        sql = "SELECT r.data FROM operations o JOIN records r ON r.seq = o.seq WHERE o.status = 'started'"
        return [OperationRecord.model_validate_json(r[0]) for r in self._read(lambda cur: cur.execute(sql).fetchall())]

    def records(self, first: int = 1, last: int | None = None) -> list[OperationRecord]:
        """Records `first` to `last` (every one by default) in sequence order; one whose stored hash or position
        disagrees with its data is marked."""
        sql, bounds = range_query("%s", first, last)
        return chained_records(self._read(lambda cur: cur.execute(sql, bounds).fetchall()))

    def rows(self, first: int = 1, last: int | None = None) -> Iterator[Row]:
        """Records `first` to `last` as stored, (seq, data, hash) in sequence order, streamed through a server-side
        cursor (one connection held until the rows are read)."""
        yield from self._stream(*range_query("%s", first, last))

    def _stream(self, sql: str, args: tuple[Any, ...]) -> Iterator[Any]:
        try:
            with self.db.pool.connection() as conn, conn.cursor(name="datamcp_audit_stream") as cur:
                cur.itersize = STREAM_ROWS
                cur.execute(sql, args)
                yield from cur
        except (psycopg.Error, PoolTimeout) as exc:
            raise AuditUnavailable(f"cannot read the PostgreSQL store: {exc}") from exc

    def index_problems(self, latest: Mapping[str, Indexed], after: int = 0) -> list[str]:
        """Where the operations index (what queries read) disagrees with the chained records: `latest` holds each
        operation's newest record (after record `after`: then only those operations' index rows, and the rows
        pointing past `after`, are compared)."""

        def read(cur: psycopg.Cursor[Any]) -> dict[str, tuple[Any, ...]]:
            return read_index(lambda sql, args: cur.execute(sql, args).fetchall(), "%s", '"user"', after, list(latest))

        return index_problems(self._read(read), latest)

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        self._write(
            lambda cur: cur.execute(
                "INSERT INTO checkpoints (seq, data) VALUES (%s, %s) "
                "ON CONFLICT (seq) DO UPDATE SET data = excluded.data",
                (checkpoint.seq, checkpoint.model_dump_json()),
            )
        )

    def checkpoints(self) -> list[Checkpoint]:
        rows = self._read(lambda cur: cur.execute("SELECT data FROM checkpoints ORDER BY seq").fetchall())
        return [Checkpoint.model_validate_json(r[0]) for r in rows]

    def checkpoint_rows(self, first: int = 0) -> Iterator[tuple[int, str]]:
        """The checkpoints from record `first` on as stored, (seq, data) in sequence order, streamed."""
        yield from self._stream(checkpoint_query("%s"), (first,))

    def head(self) -> tuple[int, str]:
        row = self._read(lambda cur: cur.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone())
        return (int(row[0]), str(row[1])) if row else (0, GENESIS)

    def verify(self) -> VerifyReport:
        return walk(self.rows())

    def raw(self, sql: str, *args: Any) -> list[Any]:
        """Direct SQL, for tests that tamper with the store on purpose."""

        def run(cur: psycopg.Cursor[Any]) -> list[Any]:
            cur.execute(sql, args)  # tests' own SQL
            return cur.fetchall() if cur.description else []

        return self._write(run)

    def dump(self) -> list[dict[str, Any]]:
        rows = self._read(lambda cur: cur.execute("SELECT data FROM records ORDER BY seq").fetchall())
        return [json.loads(r[0]) for r in rows]

    def close(self) -> None:
        self.db.close()
