"""The anchor: the latest signed checkpoint, kept where the audit database's writer cannot quietly roll it back.

`file:///path` (outside the state dir), `s3://bucket/key` (a bucket with versioning or object lock) or
`dynamodb://table?region=R` (an item in another table). Writes only move forward; verify compares the database with
the anchor, so truncating, emptying or replacing the database is detected. Beside it, the mark of the last full
verify (signed as well), where incremental verifies start.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlparse

from engine.audit.checkpoints import Checkpoint, VerifiedMark
from engine.errors import AuditUnavailable, SettingsError


class Anchor(Protocol):
    location: str

    def read(self) -> Checkpoint | None: ...

    def write(self, checkpoint: Checkpoint, *, restart: bool = False) -> None: ...

    def read_mark(self) -> VerifiedMark | None:
        """The mark the last full verify left, if any."""

    def write_mark(self, mark: VerifiedMark | None) -> None:
        """Leave a full verify's mark; None withdraws it (the next verify is a full one)."""


class FileAnchor:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.mark_path = path.with_name(f"{path.stem}.verified.json")
        self.location = f"file://{path}"

    def read(self) -> Checkpoint | None:
        try:
            return Checkpoint.model_validate_json(self.path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AuditUnavailable(f"cannot read the audit anchor {self.location}: {exc}") from exc

    def write(self, checkpoint: Checkpoint, *, restart: bool = False) -> None:
        current = self.read()
        if current is not None and checkpoint.seq < current.seq and not restart:
            return  # never move back (a slower writer's older checkpoint)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".anchor-")
            with os.fdopen(fd, "w") as f:
                f.write(checkpoint.model_dump_json())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise AuditUnavailable(f"cannot write the audit anchor {self.location}: {exc}") from exc

    def read_mark(self) -> VerifiedMark | None:
        try:
            return VerifiedMark.model_validate_json(self.mark_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # unreadable: no incremental start, the next verify is a full one

    def write_mark(self, mark: VerifiedMark | None) -> None:
        try:
            if mark is None:
                self.mark_path.unlink(missing_ok=True)
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".verified-")
            with os.fdopen(fd, "w") as f:
                f.write(mark.model_dump_json())
            os.replace(tmp, self.mark_path)
        except OSError as exc:
            raise AuditUnavailable(f"cannot write the verify mark beside {self.location}: {exc}") from exc


class S3Anchor:
    """An object in a bucket with versioning (or object lock): every write is a new version the writer cannot hide."""

    def __init__(self, bucket: str, key: str, *, region: str | None, endpoint_url: str | None) -> None:
        import boto3

        self.bucket, self.key = bucket, key
        self.location = f"s3://{bucket}/{key}"
        self.client: Any = boto3.client("s3", region_name=region or "us-east-1", endpoint_url=endpoint_url)

    def read(self) -> Checkpoint | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key)["Body"].read()
        except self.client.exceptions.NoSuchKey:
            return None
        except Exception as exc:
            raise AuditUnavailable(f"cannot read the audit anchor {self.location}: {exc}") from exc
        return Checkpoint.model_validate_json(body)

    def write(self, checkpoint: Checkpoint, *, restart: bool = False) -> None:
        current = self.read()
        if current is not None and checkpoint.seq < current.seq and not restart:
            return
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key, Body=checkpoint.model_dump_json().encode())
        except Exception as exc:
            raise AuditUnavailable(f"cannot write the audit anchor {self.location}: {exc}") from exc

    def read_mark(self) -> VerifiedMark | None:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=f"{self.key}.verified")["Body"].read()
            return VerifiedMark.model_validate_json(body)
        except Exception:
            return None  # none, unreachable or unreadable: the next verify is a full one

    def write_mark(self, mark: VerifiedMark | None) -> None:
        try:
            if mark is None:
                self.client.delete_object(Bucket=self.bucket, Key=f"{self.key}.verified")
            else:
                self.client.put_object(
                    Bucket=self.bucket, Key=f"{self.key}.verified", Body=mark.model_dump_json().encode()
                )
        except Exception as exc:
            raise AuditUnavailable(f"cannot write the verify mark beside {self.location}: {exc}") from exc


class DynamoDbAnchor:
    """An item whose `seq` only grows (a conditional write), in a table the audit writer may not rewrite."""

    def __init__(self, table: str, *, region: str | None, endpoint_url: str | None) -> None:
        import boto3

        self.table = table
        self.location = f"dynamodb://{table}"
        self.client: Any = boto3.client("dynamodb", region_name=region or "us-east-1", endpoint_url=endpoint_url)
        self.key = {"pk": {"S": "ANCHOR#main"}, "sk": {"S": "LATEST"}}
        self.mark_key = {"pk": {"S": "ANCHOR#main"}, "sk": {"S": "VERIFIED"}}

    def read(self) -> Checkpoint | None:
        try:
            item = self.client.get_item(TableName=self.table, Key=self.key, ConsistentRead=True).get("Item")
        except Exception as exc:
            raise AuditUnavailable(f"cannot read the audit anchor {self.location}: {exc}") from exc
        return Checkpoint.model_validate_json(item["data"]["S"]) if item else None

    def write(self, checkpoint: Checkpoint, *, restart: bool = False) -> None:
        item = {**self.key, "seq": {"N": str(checkpoint.seq)}, "data": {"S": checkpoint.model_dump_json()}}
        condition = {} if restart else {"ConditionExpression": "attribute_not_exists(pk) OR seq <= :seq"}
        values = {} if restart else {"ExpressionAttributeValues": {":seq": {"N": str(checkpoint.seq)}}}
        try:
            self.client.put_item(TableName=self.table, Item=item, **condition, **values)
        except self.client.exceptions.ConditionalCheckFailedException:
            return  # a newer checkpoint is already anchored
        except Exception as exc:
            raise AuditUnavailable(f"cannot write the audit anchor {self.location}: {exc}") from exc

    def read_mark(self) -> VerifiedMark | None:
        try:
            item = self.client.get_item(TableName=self.table, Key=self.mark_key, ConsistentRead=True).get("Item")
            return VerifiedMark.model_validate_json(item["data"]["S"]) if item else None
        except Exception:
            return None  # unreachable or unreadable: the next verify is a full one

    def write_mark(self, mark: VerifiedMark | None) -> None:
        try:
            if mark is None:
                self.client.delete_item(TableName=self.table, Key=self.mark_key)
            else:
                item = {**self.mark_key, "data": {"S": mark.model_dump_json()}}
                self.client.put_item(TableName=self.table, Item=item)
        except Exception as exc:
            raise AuditUnavailable(f"cannot write the verify mark beside {self.location}: {exc}") from exc


def open_anchor(url: str) -> Anchor:
    """The anchor for DATAMCP_AUDIT_ANCHOR_URL."""
    parsed = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    if parsed.scheme == "file" and parsed.path.startswith("/"):
        return FileAnchor(Path(parsed.path))
    if parsed.scheme == "s3" and parsed.netloc and parsed.path.strip("/"):
        return S3Anchor(
            parsed.netloc, parsed.path.strip("/"), region=query.get("region"), endpoint_url=query.get("endpoint")
        )
    if parsed.scheme == "dynamodb" and parsed.netloc:
        return DynamoDbAnchor(parsed.netloc, region=query.get("region"), endpoint_url=query.get("endpoint"))
    raise SettingsError(
        "DATAMCP_AUDIT_ANCHOR_URL must be file:///ABS/PATH, s3://BUCKET/KEY?region=R or dynamodb://TABLE?region=R"
    )


def describe(checkpoint: Checkpoint | None) -> dict[str, Any]:
    return json.loads(checkpoint.model_dump_json()) if checkpoint else {}
