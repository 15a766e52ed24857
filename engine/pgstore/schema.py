"""The database's versioned schema: one migration per version, applied in order under a lock (several hosts may
start at once), recorded in `datamcp_schema`. A database newer than this DataMCP is refused, never downgraded."""

from __future__ import annotations

from typing import Any

import psycopg

from engine.errors import StoreUnavailable

MIGRATION_LOCK = 0x6461_7461_6D63_71  # the advisory lock that serialises migrations
MIGRATIONS: tuple[str, ...] = (
    # 1: the audit trail (engine/audit/postgres.py)
    """
    CREATE TABLE records (seq BIGINT PRIMARY KEY, op_id TEXT NOT NULL, data TEXT NOT NULL, hash TEXT NOT NULL);
    CREATE INDEX records_op ON records(op_id);
    CREATE TABLE operations (
        op_id TEXT PRIMARY KEY, seq BIGINT NOT NULL, stack TEXT, "user" TEXT NOT NULL, status TEXT NOT NULL,
        start_ts TEXT NOT NULL
    );
    CREATE INDEX operations_stack ON operations(stack, seq);
    CREATE INDEX operations_user ON operations("user", seq);
    CREATE INDEX operations_status ON operations(status, seq);
    CREATE INDEX operations_seq ON operations(seq);
    CREATE TABLE attachments (op_id TEXT PRIMARY KEY, text TEXT NOT NULL);
    CREATE TABLE checkpoints (seq BIGINT PRIMARY KEY, data TEXT NOT NULL);
    """,
    # 2: coordination between hosts (engine/pgstore/)
    """
    CREATE TABLE previews (
        preview_id TEXT PRIMARY KEY, stack TEXT NOT NULL, created_epoch DOUBLE PRECISION NOT NULL, data TEXT NOT NULL,
        plan BYTEA
    );
    CREATE INDEX previews_created ON previews(created_epoch DESC);
    CREATE TABLE approvals (approval_id TEXT PRIMARY KEY, preview_id TEXT NOT NULL, data TEXT NOT NULL);
    CREATE INDEX approvals_preview ON approvals(preview_id);
    CREATE TABLE approvals_used (
        approval_id TEXT PRIMARY KEY, operation_id TEXT NOT NULL, used_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE SEQUENCE lease_tokens;
    CREATE TABLE leases (
        stack TEXT PRIMARY KEY, token BIGINT NOT NULL, operation_id TEXT NOT NULL, "user" TEXT NOT NULL,
        host TEXT NOT NULL, pid INTEGER NOT NULL, since TIMESTAMPTZ NOT NULL, expires_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE cancel_requests (
        operation_id TEXT PRIMARY KEY, requested_by TEXT NOT NULL, at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE running (
        operation_id TEXT PRIMARY KEY, stack TEXT, host TEXT NOT NULL, pid INTEGER NOT NULL,
        heartbeat TIMESTAMPTZ NOT NULL
    );
    CREATE INDEX running_process ON running(host, pid);
    """,
    # 3: MCP tasks (engine/task_records.py)
    """
    CREATE TABLE tasks (
        task_id TEXT PRIMARY KEY, owner TEXT NOT NULL, data TEXT NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(), expires_epoch DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX tasks_expiry ON tasks(expires_epoch);
    """,
)
VERSION = len(MIGRATIONS)


def current_version(cur: psycopg.Cursor[Any]) -> int:
    """The version the database is at (0: nothing applied), read without changing anything."""
    if cur.execute("SELECT to_regclass('datamcp_schema')").fetchone() in (None, (None,)):
        return 0
    row = cur.execute("SELECT max(version) FROM datamcp_schema").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(cur: psycopg.Cursor[Any]) -> int:
    """Apply the migrations this database lacks, one version each; the schema version after. A database already at
    this version is left as it is, so servers can run under a role that may not change the schema."""
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
    version = current_version(cur)
    if version > VERSION:
        raise StoreUnavailable(f"the database has schema version {version}, newer than this DataMCP knows ({VERSION})")
    if version == VERSION:
        return VERSION
    cur.execute("CREATE TABLE IF NOT EXISTS datamcp_schema (version INTEGER NOT NULL)")
    for number, sql in enumerate(MIGRATIONS[version:], start=version + 1):
        cur.execute(sql)  # a fixed migration, no parameters
        cur.execute("INSERT INTO datamcp_schema (version) VALUES (%s)", (number,))
    return VERSION
