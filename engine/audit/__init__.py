"""The audit trail: one hash-chained, append-only record per state change of every operation.

An operation (preview, up, approve, ...) first appends a `started` record, then one final record (succeeded, failed,
cancelled, interrupted, refused). Each record carries `prev_hash` and `hash` (sha256 over its canonical JSON), so
editing or deleting a stored record breaks the chain and `verify()` finds it. Stores: SQLite (embedded default) and
DynamoDB (the OpsLogTable component's table).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlparse

from pydantic import BaseModel, Field

from engine.errors import AuditUnavailable, InvalidInput
from engine.vocabulary import Status, echo

if TYPE_CHECKING:
    from engine.audit.checkpoints import Checkpoint

GENESIS = "0" * 64
OUTPUT_LIMIT = 16_000  # characters of stdout/stderr kept in a record; the full text goes to an attachment
MAX_PAGE = 1000  # records one query returns at most
LAST_SEQ = 2**63 - 1  # no record's sequence number is larger (a BIGINT)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class OperationRecord(BaseModel):
    """One record in the chain. `seq` and the hashes are assigned by the store when it appends."""

    id: str = Field(description="The operation id (all records of one operation share it).")
    seq: int = 0
    user: str
    tool: str
    stack: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    status: Status
    start_ts: str
    end_ts: str | None = None
    stdout: str = ""
    stderr: str = ""
    output_truncated: bool = False
    error: str | None = None
    resource_refs: list[str] = Field(default_factory=list)
    preview_id: str | None = None
    approval_id: str | None = None
    update_version: int | None = None
    attachment_sha256: str | None = Field(default=None, description="The full output kept beside the record.")
    summary: dict[str, Any] = Field(default_factory=dict)
    host: str = ""
    pid: int = 0
    prev_hash: str = ""
    hash: str = ""

    def digest(self) -> str:
        body = self.model_dump(exclude={"hash"})
        return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class Page(BaseModel):
    items: list[OperationRecord]
    next_cursor: str | None = None


def check_limit(limit: object) -> int:
    """A page size a store can serve (1..MAX_PAGE); anything else is the caller's mistake, not the store's."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_PAGE}, not {echo(limit)}")
    return limit


def bad_cursor(cursor: object) -> InvalidInput:
    """The error for a cursor this store did not hand out (made up, cut short, or from another listing)."""
    return InvalidInput(
        f"{echo(cursor)} is not a cursor of this listing: pass the next_cursor of the previous page unchanged, "
        "with the same filters, or no cursor for the first page"
    )


class VerifyReport(BaseModel):
    ok: bool
    records: int
    problems: list[str] = Field(default_factory=list)


class Indexed(Protocol):
    """What the query index says about an operation: its newest record's place and fields."""

    @property
    def seq(self) -> int: ...
    @property
    def stack(self) -> str | None: ...
    @property
    def user(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def start_ts(self) -> str: ...


class AuditStore(Protocol):
    def append(self, record: OperationRecord, attachment: str | None = None) -> OperationRecord: ...

    def get(self, operation_id: str) -> OperationRecord | None: ...

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
    ) -> Page: ...

    def attachment(self, operation_id: str) -> str | None: ...

    def verify(self) -> VerifyReport: ...

    def running(self) -> list[OperationRecord]: ...

    def records(self, first: int = 1, last: int | None = None) -> list[OperationRecord]: ...

    def rows(self, first: int = 1, last: int | None = None) -> Iterator[tuple[int, str, str]]: ...

    def index_problems(self, latest: Mapping[str, Indexed], after: int = 0) -> list[str]: ...

    def put_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    def checkpoints(self) -> list[Checkpoint]: ...

    def checkpoint_rows(self, first: int = 0) -> Iterator[tuple[int, str]]: ...

    def head(self) -> tuple[int, str]: ...


def verify_chain(records: list[OperationRecord], *, first: int = 1, prev: str = GENESIS) -> VerifyReport:
    """Walk records in sequence order: each hash must match its content and link to the previous one. A part of the
    chain starts at `first`, after the record whose hash is `prev`."""
    problems = []
    for i, record in enumerate(records):
        if record.seq != i + first:
            problems.append(f"record {record.seq}: expected sequence {i + first} (a record is missing or reordered)")
        if record.prev_hash != prev:
            problems.append(f"record {record.seq} ({record.id}): prev_hash does not match the record before it")
        if record.digest() != record.hash:
            problems.append(f"record {record.seq} ({record.id}): content does not match its hash (edited)")
        prev = record.hash
    return VerifyReport(ok=not problems, records=len(records), problems=problems)


def open_store(url: str) -> AuditStore:
    """The audit store for DATAMCP_AUDIT_URL: sqlite:///ABS/PATH, postgresql://USER@HOST:PORT/DB or
    dynamodb://TABLE?region=R[&endpoint=URL]."""
    parsed = urlparse(url)
    try:
        if parsed.scheme == "sqlite":
            from engine.audit.sqlite import SqliteAuditStore

            return SqliteAuditStore(parsed.path)
        if parsed.scheme in ("postgresql", "postgres"):
            from engine.audit.postgres import PostgresAuditStore

            return PostgresAuditStore(url)
        if parsed.scheme == "dynamodb":
            from engine.audit.dynamodb import DynamoDbAuditStore

            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            return DynamoDbAuditStore(parsed.netloc, region=query.get("region"), endpoint_url=query.get("endpoint"))
    except AuditUnavailable:
        raise
    except Exception as exc:
        raise AuditUnavailable(f"cannot open the audit store {url}: {exc}") from exc
    raise AuditUnavailable(f"unsupported audit store {url}")
