"""One PostgreSQL database behind a psycopg 3 connection pool: reads, single-transaction writes, and every
database failure turned into one typed error (the store down means the operation does not run)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlparse

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolTimeout

from engine.errors import DataMcpError, StoreUnavailable
from engine.pgstore.schema import current_version, migrate

T = TypeVar("T")
POOL_TIMEOUT_SECONDS = 5.0
CONNECT_TIMEOUT_SECONDS = 3


def shown(url: str) -> str:
    """The URL without its user, password or port, for messages."""
    try:
        parsed = urlparse(url)
        return parsed._replace(netloc=parsed.hostname or "").geturl()
    except ValueError:
        return "(a malformed URL)"


def check_url(url: str, error: type[DataMcpError]) -> None:
    """Refuse a URL libpq cannot parse before it is used: libpq's message (and the pool's log of it) quotes the part
    it could not parse, which is often the password."""
    try:
        conninfo_to_dict(url)
    except psycopg.Error:
        raise error(
            "the PostgreSQL store URL is malformed: percent-encode special characters in the user and password "
            "(postgresql://USER:PASSWORD@HOST:PORT/DB)"
        ) from None


class Database:
    """A pool of connections to `url`, migrated to this DataMCP's schema when opened. `error` is the typed error a
    database failure raises (AuditUnavailable for the audit trail, StoreUnavailable for the rest)."""

    def __init__(
        self, url: str, *, error: type[DataMcpError] = StoreUnavailable, pool_size: int = 4, migrated: bool = True
    ) -> None:
        """`migrated=False` opens the database as it is (doctor reports the version without changing it)."""
        self.url, self.error = url, error
        check_url(url, error)
        try:
            self.pool = ConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=POOL_TIMEOUT_SECONDS,
                kwargs={"connect_timeout": CONNECT_TIMEOUT_SECONDS},
                check=ConnectionPool.check_connection,
                open=True,
            )
            self.pool.wait(timeout=POOL_TIMEOUT_SECONDS)
            if migrated:
                self.write(migrate)
        except (psycopg.Error, PoolTimeout, StoreUnavailable) as exc:
            self.close()
            raise error(f"cannot open the PostgreSQL store at {shown(url)}: {_why(exc)}") from exc

    def read(self, fn: Callable[[psycopg.Cursor[Any]], T]) -> T:
        try:
            with self.pool.connection() as conn, conn.cursor() as cur:
                return fn(cur)
        except (psycopg.Error, PoolTimeout) as exc:
            raise self.error(f"cannot read the PostgreSQL store: {_why(exc)}") from exc

    def write(self, fn: Callable[[psycopg.Cursor[Any]], T]) -> T:
        """One transaction: committed when `fn` returns, rolled back when it raises."""
        try:
            with self.pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                return fn(cur)
        except (psycopg.Error, PoolTimeout) as exc:
            raise self.error(f"cannot write to the PostgreSQL store: {_why(exc)}") from exc

    def execute(self, sql: str, *args: Any) -> int:
        """One statement in its own transaction; the number of rows it touched."""
        return self.write(lambda cur: cur.execute(sql, args).rowcount)

    def one(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        return self.read(lambda cur: cur.execute(sql, args).fetchone())

    def all(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        return self.read(lambda cur: cur.execute(sql, args).fetchall())

    def version(self) -> int:
        """The schema version the database is at."""
        return self.read(current_version)

    def close(self) -> None:
        pool = getattr(self, "pool", None)
        if pool is not None:
            pool.close()


def _why(exc: Exception) -> str:
    if isinstance(exc, StoreUnavailable):
        return exc.message
    if isinstance(exc, PoolTimeout):
        return f"no connection within {POOL_TIMEOUT_SECONDS:g} s (is the database up and reachable?)"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
