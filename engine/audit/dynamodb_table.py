"""The DynamoDB audit table: the connection, its key design, and the chain's own items (the head and the signed
checkpoints), under pk="CHAIN#main"; the records themselves are engine/audit/dynamodb.py's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from components.aws.opslog import ATTRIBUTES, INDEXES, KEY_SCHEMA
from engine.audit import GENESIS
from engine.audit.checkpoints import Checkpoint
from engine.errors import AuditUnavailable

CHAIN = "main"
HEAD_KEY = {"pk": {"S": f"CHAIN#{CHAIN}"}, "sk": {"S": "HEAD"}}


class AuditTable:
    def __init__(self, table: str, *, region: str | None = None, endpoint_url: str | None = None) -> None:
        self.table = table
        self.client = boto3.client(
            "dynamodb",
            region_name=region or "us-east-1",
            endpoint_url=endpoint_url,
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=10),
        )

    def create_table(self) -> None:
        """Create the table with the OpsLogTable component's key design (for the sandbox and tests)."""
        self.client.create_table(
            TableName=self.table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": n, "AttributeType": t}  # type: ignore[typeddict-item]
                for n, t in ATTRIBUTES.items()
            ],
            KeySchema=[
                {"AttributeName": KEY_SCHEMA["hash_key"], "KeyType": "HASH"},
                {"AttributeName": KEY_SCHEMA["range_key"], "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": name,
                    "Projection": {"ProjectionType": "ALL"},
                    "KeySchema": [{"AttributeName": h, "KeyType": "HASH"}, {"AttributeName": r, "KeyType": "RANGE"}],
                }
                for name, (h, r) in INDEXES.items()
            ],
        )

    def _call(self, method: str, **kwargs: Any) -> Any:
        try:
            return getattr(self.client, method)(**kwargs)
        except ClientError:
            raise
        except BotoCoreError as exc:
            raise AuditUnavailable(f"the audit table {self.table} is unreachable: {exc}") from exc

    def put_checkpoint(self, checkpoint: Checkpoint) -> None:
        item = {"pk": {"S": f"CHAIN#{CHAIN}"}, "sk": {"S": f"CP#{checkpoint.seq:020d}"}}
        try:
            self._call("put_item", TableName=self.table, Item={**item, "data": {"S": checkpoint.model_dump_json()}})
        except ClientError as exc:
            raise AuditUnavailable(f"cannot write the audit checkpoint: {exc}") from exc

    def checkpoints(self) -> list[Checkpoint]:
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :cp)",
            "ExpressionAttributeValues": {":pk": {"S": f"CHAIN#{CHAIN}"}, ":cp": {"S": "CP#"}},
            "ConsistentRead": True,
        }
        found: list[Checkpoint] = []
        while True:
            page = self._call("query", **kwargs)
            found += [Checkpoint.model_validate_json(i["data"]["S"]) for i in page["Items"]]
            if not page.get("LastEvaluatedKey"):
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def checkpoint_rows(self, first: int = 0) -> Iterator[tuple[int, str]]:
        """The checkpoints from record `first` on as stored, (seq, data) in sequence order, a page at a time."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :first AND :last",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"CHAIN#{CHAIN}"},
                ":first": {"S": f"CP#{max(first, 0):020d}"},
                ":last": {"S": "CP#~"},
            },
            "ConsistentRead": True,
        }
        while True:
            try:
                page = self._call("query", **kwargs)
            except ClientError as exc:
                raise AuditUnavailable(f"cannot read the audit checkpoints: {exc}") from exc
            for item in page["Items"]:
                place = item["sk"]["S"][3:]
                yield int(place) if place.isdigit() else 0, item.get("data", {}).get("S", "")
            if not page.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def head(self) -> tuple[int, str]:
        try:
            head = self._call("get_item", TableName=self.table, Key=HEAD_KEY, ConsistentRead=True).get("Item")
        except ClientError as exc:
            raise AuditUnavailable(f"cannot read the audit chain head: {exc}") from exc
        return (int(head["seq"]["N"]), head["hash"]["S"]) if head else (0, GENESIS)
