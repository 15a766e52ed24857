"""The hash chain itself: record digests that stay stable, what `verify_chain` reports, and opening a store by URL."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest

from engine.audit import (
    GENESIS,
    MAX_PAGE,
    OperationRecord,
    bad_cursor,
    check_limit,
    now,
    open_store,
    verify_chain,
)
from engine.audit.dynamodb import DynamoDbAuditStore
from engine.audit.sqlite import SqliteAuditStore
from engine.errors import AuditUnavailable, InvalidInput


def record(seq: int = 1, prev_hash: str = GENESIS, **changes: object) -> OperationRecord:
    base = OperationRecord(
        id=f"op-{seq:05d}",
        seq=seq,
        user="alice",
        tool="up",
        stack="aws-dev",
        status="started",
        start_ts="2027-01-15T08:00:00.000000+00:00",
        params={"b": 1, "a": [1, 2]},
        prev_hash=prev_hash,
    )
    base = base.model_copy(update=changes)
    return base.model_copy(update={"hash": base.digest()})


def chain(length: int) -> list[OperationRecord]:
    records, prev = [], GENESIS
    for seq in range(1, length + 1):
        records.append(record(seq, prev))
        prev = records[-1].hash
    return records


# --- digests --------------------------------------------------------------------------------------------------------
def test_a_records_digest_is_the_sha256_of_its_canonical_json_without_the_hash() -> None:
    r = record()
    body = json.loads(r.model_dump_json(exclude={"hash"}))
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
    assert r.digest() == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_records_digest_stays_what_earlier_versions_stored() -> None:
    """Chains written before an upgrade must still verify after it."""
    assert record().digest() == "23762e5c1ec06da63a96f376a1f4396b8347585a31a196d8dc350ecb4ac96833"


def test_timestamps_are_utc_with_microseconds() -> None:
    stamp = now()
    assert stamp.endswith("+00:00") and datetime.fromisoformat(stamp).microsecond is not None
    assert len(stamp.split(".")[1]) == len("000000+00:00")


# --- verify_chain ---------------------------------------------------------------------------------------------------
def test_an_intact_chain_verifies() -> None:
    assert verify_chain(chain(3)).model_dump() == {"ok": True, "records": 3, "problems": []}


def test_a_missing_record_is_named_with_the_sequence_expected() -> None:
    records = chain(3)
    report = verify_chain([records[0], records[2]])
    assert report.problems == [
        "record 3: expected sequence 2 (a record is missing or reordered)",
        "record 3 (op-00003): prev_hash does not match the record before it",
    ]


def test_an_edited_record_is_named() -> None:
    records = chain(2)
    records[1] = records[1].model_copy(update={"user": "mallory"})
    assert verify_chain(records).problems == ["record 2 (op-00002): content does not match its hash (edited)"]


# --- paging arguments -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("limit", [1, MAX_PAGE])
def test_a_page_size_within_the_bounds_is_taken(limit: int) -> None:
    assert check_limit(limit) == limit


@pytest.mark.parametrize("limit", [0, MAX_PAGE + 1, True, "5"])
def test_a_page_size_outside_the_bounds_is_refused_with_the_bounds(limit: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_limit(limit)
    assert caught.value.message == f"limit must be a whole number from 1 to {MAX_PAGE}, not {limit!r}"


def test_a_made_up_cursor_says_how_to_page() -> None:
    assert bad_cursor("abc").message == (
        "'abc' is not a cursor of this listing: pass the next_cursor of the previous page unchanged, "
        "with the same filters, or no cursor for the first page"
    )


# --- opening a store ------------------------------------------------------------------------------------------------
def test_a_sqlite_url_opens_the_file_it_names(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path}/audit.db")
    assert isinstance(store, SqliteAuditStore) and str(store.path) == f"{tmp_path}/audit.db"


def test_a_dynamodb_url_names_the_table_region_and_endpoint() -> None:
    store = open_store("dynamodb://ops-log?region=eu-west-1&endpoint=http://127.0.0.1:9")
    assert isinstance(store, DynamoDbAuditStore)
    assert (store.table, store.client.meta.region_name, store.client.meta.endpoint_url) == (
        "ops-log",
        "eu-west-1",
        "http://127.0.0.1:9",
    )


def test_an_unknown_scheme_is_refused() -> None:
    with pytest.raises(AuditUnavailable) as caught:
        open_store("mysql://db/audit")
    assert caught.value.message == "unsupported audit store mysql://db/audit"


def test_a_store_that_cannot_open_says_which_and_why() -> None:
    with pytest.raises(AuditUnavailable) as caught:
        open_store("dynamodb://ops-log?region=not a region")
    assert caught.value.message.startswith("cannot open the audit store dynamodb://ops-log?region=not a region: ")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_opens_the_postgresql_store(scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.audit.postgres

    opened: list[str] = []

    class Opened:
        def __init__(self, url: str) -> None:
            opened.append(url)

    monkeypatch.setattr(engine.audit.postgres, "PostgresAuditStore", Opened)
    store = open_store(f"{scheme}://datamcp@db.internal:5432/audit")
    assert isinstance(store, Opened) and opened == [f"{scheme}://datamcp@db.internal:5432/audit"]
