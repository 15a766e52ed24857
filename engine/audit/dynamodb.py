"""The DynamoDB audit store, on the table the OpsLogTable component creates (same keys and indexes).

Items: `pk`="OP#<id>", `sk`="SEQ#<seq>"; the chain head is the item pk="CHAIN#main", sk="HEAD". An append writes the
record and moves the head in one transaction conditioned on the head it read, so concurrent writers never fork the
chain (a loser retries on the new head).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from botocore.exceptions import ClientError

from components.aws.opslog import ATTRIBUTES, INDEXES
from engine.audit import (
    GENESIS,
    LAST_SEQ,
    Indexed,
    OperationRecord,
    Page,
    VerifyReport,
    bad_cursor,
    check_limit,
)
from engine.audit.dynamodb_table import CHAIN, HEAD_KEY, AuditTable
from engine.audit.walk import Row, walk
from engine.errors import AuditUnavailable

ATTACHMENT_LIMIT = 300_000  # characters; a DynamoDB item holds at most 400 KB
INDEX_RETRIES, INDEX_LAG_SECONDS = 5, 0.2  # the by_seq index is eventually consistent: a new record may lag


def _sk(seq: int) -> str:
    return f"SEQ#{seq:020d}"


class DynamoDbAuditStore(AuditTable):
    """Records and their queries; the table, its head and checkpoints are AuditTable's."""

    def append(self, record: OperationRecord, attachment: str | None = None) -> OperationRecord:
        for _ in range(20):
            try:
                head = self._call("get_item", TableName=self.table, Key=HEAD_KEY, ConsistentRead=True).get("Item")
            except ClientError as exc:
                raise AuditUnavailable(f"cannot read the audit chain head: {exc}") from exc
            seq = int(head["seq"]["N"]) + 1 if head else 1
            prev = head["hash"]["S"] if head else GENESIS
            stored = record.model_copy(update={"seq": seq, "prev_hash": prev, "hash": ""})
            stored = stored.model_copy(update={"hash": stored.digest()})
            item: dict[str, Any] = {
                "pk": {"S": f"OP#{stored.id}"},
                "sk": {"S": _sk(seq)},
                "chain": {"S": CHAIN},
                "seq": {"N": str(seq)},
                "user": {"S": stored.user},
                "ts_seq": {"S": f"{stored.start_ts}#{seq:020d}"},
                "status": {"S": stored.status},
                "data": {"S": stored.model_dump_json()},
                "hash": {"S": stored.hash},
            }
            if stored.stack:
                item["stack"] = {"S": stored.stack}
            if attachment is not None:
                item["attachment"] = {"S": attachment[:ATTACHMENT_LIMIT]}
            head_update: dict[str, Any] = {
                "TableName": self.table,
                "Key": HEAD_KEY,
                "UpdateExpression": "SET seq = :seq, #h = :hash",
                "ExpressionAttributeNames": {"#h": "hash"},
                "ExpressionAttributeValues": {":seq": {"N": str(seq)}, ":hash": {"S": stored.hash}},
            }
            if head:
                head_update["ConditionExpression"] = "seq = :prev"
                head_update["ExpressionAttributeValues"][":prev"] = {"N": str(seq - 1)}
            else:
                head_update["ConditionExpression"] = "attribute_not_exists(pk)"
            try:
                self._call(
                    "transact_write_items",
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self.table,
                                "Item": item,
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        },
                        {"Update": head_update},
                    ],
                )
                return stored
            except ClientError as exc:
                if exc.response["Error"]["Code"] in ("TransactionCanceledException", "ConditionalCheckFailedException"):
                    time.sleep(0.01)
                    continue  # another writer moved the head: retry on the new one
                raise AuditUnavailable(f"cannot write the audit record: {exc}") from exc
        raise AuditUnavailable("cannot write the audit record: the chain head kept moving")

    @staticmethod
    def _record(item: dict[str, Any]) -> OperationRecord:
        return OperationRecord.model_validate_json(item["data"]["S"])

    def _op_items(self, operation_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        """An operation's records, newest first."""
        kwargs: dict[str, Any] = {"Limit": limit} if limit else {}
        try:
            items: list[dict[str, Any]] = self._call(
                "query",
                TableName=self.table,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": {"S": f"OP#{operation_id}"}},
                ScanIndexForward=False,
                **kwargs,
            )["Items"]
        except ClientError as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc
        return items

    def get(self, operation_id: str) -> OperationRecord | None:
        items = self._op_items(operation_id, limit=1)
        return self._record(items[0]) if items else None

    def attachment(self, operation_id: str) -> str | None:
        return next((str(i["attachment"]["S"]) for i in self._op_items(operation_id) if "attachment" in i), None)

    def _versions(
        self, index: str, key: str, value: str, descending: bool, start: Any = None, seqs: tuple[int, int] | None = None
    ) -> Any:
        """One page of an index, for one key value; `seqs` bounds the by_seq index's sort key (first, last)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :v",
            "ExpressionAttributeNames": {"#k": key},
            "ExpressionAttributeValues": {":v": {"S": value}},
            "ScanIndexForward": not descending,
        }
        if seqs is not None:
            kwargs["KeyConditionExpression"] += " AND #s BETWEEN :first AND :last"
            kwargs["ExpressionAttributeNames"]["#s"] = "seq"
            kwargs["ExpressionAttributeValues"].update({":first": {"N": str(seqs[0])}, ":last": {"N": str(seqs[1])}})
        if start:
            kwargs["ExclusiveStartKey"] = start
        try:
            return self._call("query", **kwargs)
        except ClientError as exc:
            raise AuditUnavailable(f"cannot read the audit store: {exc}") from exc

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
        index, key, value = (
            ("by_stack", "stack", stack) if stack else ("by_user", "user", user) if user else ("by_seq", "chain", CHAIN)
        )
        start, seen = parse_cursor(cursor, index, str(value)) if cursor is not None else (None, set())

        def wanted(record: OperationRecord) -> bool:
            return not (
                (user and record.user != user)
                or (status and record.status != status)
                or (since and record.start_ts < since)
                or (until and record.start_ts >= until)
            )

        return self._latest(index, key, str(value), wanted, limit, start, seen)

    def _latest(
        self,
        index: str,
        key: str,
        value: str,
        wanted: Callable[[OperationRecord], bool],
        limit: int | None,
        start: Any,
        seen: set[str],
    ) -> Page:
        """The newest version of each operation in the index, newest first, that `wanted` keeps (`limit` of them)."""
        items: list[OperationRecord] = []
        while True:
            page = self._versions(index, key, value, descending=True, start=start)
            for raw in page["Items"]:
                record = self._record(raw)
                if record.id in seen:
                    continue  # an older version of an operation already listed
                seen.add(record.id)
                if not wanted(record):
                    continue
                items.append(record)
                if len(items) == limit:
                    next_cursor = json.dumps({"start": raw_key(raw, index), "seen": sorted(seen)})
                    return Page(items=items, next_cursor=next_cursor)
            start = page.get("LastEvaluatedKey")
            if not start:
                return Page(items=items, next_cursor=None)

    def running(self) -> list[OperationRecord]:
        return self._latest("by_seq", "chain", CHAIN, lambda r: r.status == "started", None, None, set()).items

    def _chain_items(self, first: int = 1, last: int | None = None) -> list[dict[str, Any]]:
        return list(self._chain_pages(first, last))

    def _chain_pages(self, first: int = 1, last: int | None = None) -> Iterator[dict[str, Any]]:
        """The chain's items `first` to `last` in sequence order, a page read at a time."""
        start, seqs = None, (first, LAST_SEQ if last is None else last)
        while True:
            page = self._versions("by_seq", "chain", CHAIN, descending=False, start=start, seqs=seqs)
            yield from page["Items"]
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def _settled_chain_items(self, first: int, last: int | None) -> list[dict[str, Any]]:
        """The chain's items `first` to `last`; a bounded range found short (a record the head already counts but
        the index does not show yet) is read again for a moment before it is returned as it is."""
        items = self._chain_items(first, last)
        for _ in range(INDEX_RETRIES):
            if last is None or len(items) >= last - first + 1:
                break
            time.sleep(INDEX_LAG_SECONDS)
            items = self._chain_items(first, last)
        return items

    def records(self, first: int = 1, last: int | None = None) -> list[OperationRecord]:
        """Records `first` to `last` (every one by default) in sequence order; one whose stored hash or position
        disagrees with its data is marked."""
        records = []
        for raw in self._settled_chain_items(first, last):
            record = self._record(raw)
            if record.hash != raw["hash"]["S"] or record.seq != int(raw["seq"]["N"]):
                record = record.model_copy(update={"hash": raw["hash"]["S"] + "-mismatch"})
            records.append(record)
        return records

    def rows(self, first: int = 1, last: int | None = None) -> Iterator[Row]:
        """Records `first` to `last` as stored, (seq, data, hash) in sequence order, a page read at a time."""
        items = self._settled_chain_items(first, last) if last is not None else self._chain_pages(first)
        for raw in items:
            yield int(raw["seq"]["N"]), raw.get("data", {}).get("S", ""), raw.get("hash", {}).get("S", "")

    def index_problems(self, latest: Mapping[str, Indexed], after: int = 0) -> list[str]:
        """Where the attributes queries read (user, stack, status, time) disagree with the record's chained data
        (in the records after record `after`)."""
        problems = []
        for raw in self._chain_pages(after + 1):
            record = self._record(raw)
            indexed = {k: raw[k]["S"] for k in ("user", "stack", "status") if k in raw}
            if indexed != {
                k: v for k, v in (("user", record.user), ("stack", record.stack), ("status", record.status)) if v
            }:
                problems.append(f"record {record.seq}: the query index disagrees with its data")
        return problems

    def verify(self) -> VerifyReport:
        return walk(self.rows())


def raw_key(item: dict[str, Any], index: str) -> dict[str, Any]:
    """The ExclusiveStartKey that resumes a GSI query right after `item`."""
    h, r = INDEXES[index]
    return {k: item[k] for k in ("pk", "sk", h, r) if k in item}


def parse_cursor(cursor: str, index: str, value: str) -> tuple[dict[str, Any], set[str]]:
    """The start key and the operations already listed that a cursor of `raw_key`'s shape holds, for this index
    and key value; a cursor this store did not hand out for the same listing is invalid input."""
    try:
        data = json.loads(cursor)
    except (TypeError, ValueError):
        raise bad_cursor(cursor) from None
    if not isinstance(data, dict) or set(data) != {"start", "seen"}:
        raise bad_cursor(cursor)
    start, seen = data["start"], data["seen"]
    h, r = INDEXES[index]
    if (
        not isinstance(start, dict)
        or set(start) != {"pk", "sk", h, r}
        or not all(_typed_value(start[name], ATTRIBUTES[name]) for name in start)
        or start[h][ATTRIBUTES[h]] != value
        or not isinstance(seen, list)
        or not all(isinstance(op_id, str) for op_id in seen)
    ):
        raise bad_cursor(cursor)
    return start, set(seen)


def _typed_value(value: object, kind: str) -> bool:
    """A DynamoDB attribute value of the key's type, e.g. {"S": "..."} or {"N": "12"}."""
    if not isinstance(value, dict) or set(value) != {kind} or not isinstance(value[kind], str):
        return False
    return kind != "N" or value[kind].isdigit()
