"""What the SQL audit stores (SQLite, PostgreSQL) share: records read back from rows, with any whose stored hash or
position disagrees with its data marked, and the query index compared with the chained records."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.audit import OperationRecord
from engine.vocabulary import Status


def chained_records(rows: Iterable[tuple[int, str, str]]) -> list[OperationRecord]:
    """(seq, data, stored hash) rows as records in order; an unreadable one becomes a placeholder, and one whose
    stored hash or position disagrees with its data is marked so that verify reports it."""
    records = []
    for seq, data, stored_hash in rows:
        try:
            record = OperationRecord.model_validate_json(data)
        except ValueError:
            record = OperationRecord(id="?", user="?", tool="?", status=Status.FAILED, start_ts="", seq=seq)
        if record.hash != stored_hash or record.seq != seq:
            record = record.model_copy(update={"hash": stored_hash + "-mismatch"})
        records.append(record)
    return records


def index_problems(indexed: dict[str, tuple[Any, ...]], latest: dict[str, OperationRecord]) -> list[str]:
    """Where the operations index ((seq, stack, user, status, start_ts) per operation) disagrees with the records."""
    problems = [f"operation {op}: missing from the query index" for op in latest if op not in indexed]
    for op, fields in indexed.items():
        record = latest.get(op)
        if record is None:
            problems.append(f"operation {op}: in the query index but in no record")
        elif tuple(fields) != (record.seq, record.stack, record.user, record.status, record.start_ts):
            problems.append(f"operation {op}: the query index disagrees with record {record.seq}")
    return problems
