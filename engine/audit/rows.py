"""What the SQL audit stores (SQLite, PostgreSQL) share: records read back from rows, with any whose stored hash or
position disagrees with its data marked, and the query index compared with the chained records."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from engine.audit import LAST_SEQ, Indexed, OperationRecord, Page, bad_cursor
from engine.audit.walk import stored_record

_CURSOR = re.compile(r"[1-9][0-9]{0,17}")  # a record's sequence number, as next_cursor hands it out


def range_query(mark: str, first: int, last: int | None) -> tuple[str, tuple[int, int]]:
    """The SELECT of records `first` to `last` (the newest when None) as (seq, data, hash) rows in sequence order,
    for `chained_records`, and its bound values: `mark` is the driver's placeholder. A primary-key range."""
    sql = f"SELECT seq, data, hash FROM records WHERE seq BETWEEN {mark} AND {mark} ORDER BY seq"  # noqa: S608
    return sql, (first, LAST_SEQ if last is None else last)


def checkpoint_query(mark: str) -> str:
    """The SELECT of the checkpoints from a record on as (seq, data) rows in sequence order; `mark` is the driver's
    placeholder."""
    return f"SELECT seq, data FROM checkpoints WHERE seq >= {mark} ORDER BY seq"  # noqa: S608 - values bound


def read_index(
    fetch: Callable[[str, tuple[Any, ...]], list[Any]], mark: str, user_column: str, after: int, ids: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """The operations index as {op_id: (seq, stack, user, status, start_ts)}: every row, or (`after` > 0) the rows
    pointing past record `after` and those of the operations `ids`. `fetch` runs one SELECT with its bound values;
    `mark` is the driver's placeholder, `user_column` the user column as the dialect names it."""
    columns = f"op_id, seq, stack, {user_column}, status, start_ts"
    if not after:
        rows = fetch(f"SELECT {columns} FROM operations", ())  # noqa: S608 - no values
    else:
        rows = fetch(f"SELECT {columns} FROM operations WHERE seq > {mark}", (after,))  # noqa: S608 - values bound
        for i in range(0, len(ids), 500):
            chunk = tuple(ids[i : i + 500])
            marks = ", ".join([mark] * len(chunk))
            rows += fetch(f"SELECT {columns} FROM operations WHERE op_id IN ({marks})", chunk)  # noqa: S608
    return {row[0]: tuple(row[1:]) for row in rows}


def cursor_seq(cursor: str) -> int:
    """The sequence number a cursor of these stores stands for; anything else is invalid input."""
    if not isinstance(cursor, str) or not _CURSOR.fullmatch(cursor):
        raise bad_cursor(cursor)
    return int(cursor)


def page_query(mark: str, user_column: str, filters: dict[str, Any]) -> tuple[str, list[Any]]:
    """The SELECT of one page of operations, newest first, and its bound values (the limit's last): `mark` is the
    driver's placeholder, `user_column` the user column as the dialect names it. Only values are bound; the
    columns are fixed here."""
    clauses: list[str] = []
    args: list[Any] = []
    for column, name in (("stack", "stack"), (user_column, "user"), ("status", "status")):
        if filters.get(name) is not None:
            clauses.append(f"o.{column} = {mark}")
            args.append(filters[name])
    for clause, name in (("o.start_ts >= ", "since"), ("o.start_ts < ", "until")):
        if filters.get(name) is not None:
            clauses.append(clause + mark)
            args.append(filters[name])
    if filters.get("cursor") is not None:
        clauses.append(f"o.seq < {mark}")
        args.append(cursor_seq(filters["cursor"]))
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT r.data, o.seq FROM operations o JOIN records r ON r.seq = o.seq {where} ORDER BY o.seq DESC LIMIT {mark}"  # noqa: S608, E501 - values bound
    return sql, args


def page_of(rows: list[Any], limit: int) -> Page:
    """A page from `limit + 1` rows of (data, seq): the extra row only says that there is a next page."""
    items = [OperationRecord.model_validate_json(r[0]) for r in rows[:limit]]
    return Page(items=items, next_cursor=str(rows[limit - 1][1]) if len(rows) > limit else None)


def chained_records(rows: Iterable[tuple[int, str, str]]) -> list[OperationRecord]:
    """(seq, data, stored hash) rows as records in order; an unreadable one becomes a placeholder, and one whose
    stored hash or position disagrees with its data is marked so that verify reports it."""
    return [stored_record(seq, data, stored_hash) for seq, data, stored_hash in rows]


def index_problems(indexed: dict[str, tuple[Any, ...]], latest: Mapping[str, Indexed]) -> list[str]:
    """Where the operations index ((seq, stack, user, status, start_ts) per operation) disagrees with the records."""
    problems = [f"operation {op}: missing from the query index" for op in latest if op not in indexed]
    for op, fields in indexed.items():
        record = latest.get(op)
        if record is None:
            problems.append(f"operation {op}: in the query index but in no record")
        elif tuple(fields) != (record.seq, record.stack, record.user, record.status, record.start_ts):
            problems.append(f"operation {op}: the query index disagrees with record {record.seq}")
    return problems
