"""The DynamoDB audit store against a real moto server on loopback (no in-process patching)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.audit import OperationRecord, now, open_store
from engine.audit.anchor import S3Anchor, open_anchor
from engine.audit.checkpoints import Notary, VerifiedMark
from engine.audit.dynamodb import DynamoDbAuditStore
from engine.audit.spool import Spool
from engine.audit.trail import AuditTrail, VerifyScope
from engine.errors import AuditUnavailable, InvalidInput
from engine.trust.server_key import ServerKey

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    port = free_port()
    server = Path(sys.executable).parent / "moto_server"
    assert server.exists(), "moto[server] is installed by `make bootstrap`"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/moto-api/", timeout=1)  # noqa: S310 - loopback only
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("moto_server did not start")
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def store(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> DynamoDbAuditStore:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    table = f"ops_{request.node.name[:40].replace('[', '_').replace(']', '_')}"
    s = open_store(f"dynamodb://{table}?region=eu-west-1&endpoint={moto_endpoint}")
    assert isinstance(s, DynamoDbAuditStore)
    s.create_table()
    return s


def record(op_id: str, status: str = "started", stack: str = "aws-dev", user: str = "alice") -> OperationRecord:
    return OperationRecord(id=op_id, user=user, tool="up", stack=stack, status=status, start_ts=now())  # type: ignore[arg-type]


def test_append_get_and_chain(store: DynamoDbAuditStore) -> None:
    a = store.append(record("op-1"))
    b = store.append(record("op-1", "succeeded"), attachment="full output " * 10)
    assert (a.seq, b.seq, b.prev_hash) == (1, 2, a.hash)
    assert store.get("op-1").status == "succeeded"  # type: ignore[union-attr]
    assert store.get("missing") is None
    assert store.attachment("op-1") == "full output " * 10
    assert store.verify().ok


def test_queries_by_stack_user_status_with_pagination(store: DynamoDbAuditStore) -> None:
    for i in range(6):
        store.append(record(f"op-{i}", stack="aws-dev" if i % 2 else "gcp-dev", user="bob" if i < 2 else "alice"))
    store.append(record("op-4", "failed", stack="gcp-dev", user="alice"))
    assert [r.id for r in store.query(stack="aws-dev").items] == ["op-5", "op-3", "op-1"]
    assert {r.id for r in store.query(user="bob").items} == {"op-0", "op-1"}
    failed = store.query(status="failed").items
    assert [(r.id, r.status) for r in failed] == [("op-4", "failed")]
    first = store.query(limit=4)
    rest = store.query(limit=4, cursor=first.next_cursor)
    assert len(first.items) == 4 and {r.id for r in first.items + rest.items} == {f"op-{i}" for i in range(6)}
    assert {r.id for r in store.running()} == {"op-0", "op-1", "op-2", "op-3", "op-5"}


def test_records_are_read_by_their_place_in_the_chain(store: DynamoDbAuditStore) -> None:
    for i in range(5):
        store.append(record(f"op-{i}"))
    assert [r.id for r in store.records(2, 3)] == ["op-1", "op-2"] and [r.seq for r in store.records(4)] == [4, 5]
    assert len(store.records()) == 5


def test_tampering_with_an_item_is_detected(store: DynamoDbAuditStore) -> None:
    for i in range(3):
        store.append(record(f"op-{i}"))
    item = store.client.get_item(
        TableName=store.table, Key={"pk": {"S": "OP#op-1"}, "sk": {"S": "SEQ#" + "2".zfill(20)}}
    )
    data = item["Item"]["data"]["S"].replace('"alice"', '"mallory"')
    store.client.update_item(
        TableName=store.table,
        Key={"pk": {"S": "OP#op-1"}, "sk": {"S": "SEQ#" + "2".zfill(20)}},
        UpdateExpression="SET #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":d": {"S": data}},
    )
    report = store.verify()
    assert not report.ok and any("record 2" in p for p in report.problems)


def test_an_unreachable_table_is_audit_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    store = open_store(f"dynamodb://nowhere?region=eu-west-1&endpoint=http://127.0.0.1:{free_port()}")
    with pytest.raises(AuditUnavailable):
        store.append(record("op-x"))


def test_a_cursor_the_store_never_handed_out_is_invalid_input(store: DynamoDbAuditStore) -> None:
    for i in range(3):
        store.append(record(f"op-{i}", stack="aws-dev"))
    by_stack = store.query(stack="aws-dev", limit=1).next_cursor
    assert by_stack is not None
    forged = json.loads(by_stack)
    forged["start"]["ts_seq"] = {"N": "1"}
    for cursor, filters in (
        ("garbage", {}),
        ("[]", {}),
        ('{"start": {}, "seen": []}', {}),
        (by_stack, {}),  # a cursor of another listing (by stack) for the whole trail
        (by_stack, {"stack": "gcp-dev"}),  # the same index, another stack
        (json.dumps(forged), {"stack": "aws-dev"}),
        ("x" * 5000, {}),
    ):
        with pytest.raises(InvalidInput) as info:
            store.query(cursor=cursor, **filters)  # type: ignore[arg-type]
        assert "cursor" in info.value.message and len(info.value.message) < 300
    assert [r.id for r in store.query(stack="aws-dev", cursor=by_stack).items] == ["op-1", "op-0"]


def test_a_page_size_outside_1_to_1000_is_invalid_input(store: DynamoDbAuditStore) -> None:
    store.append(record("op-1"))
    for limit in (0, -1, 1001):
        with pytest.raises(InvalidInput):
            store.query(limit=limit)
    assert [r.id for r in store.running()] == ["op-1"]


@pytest.fixture
def dynamo_trail(store: DynamoDbAuditStore, moto_endpoint: str, tmp_path: Path) -> AuditTrail:
    """The DynamoDB store with checkpoints signed by a server key and an anchor item in a table of its own."""
    anchor_table = DynamoDbAuditStore(f"{store.table}-anchor", region="eu-west-1", endpoint_url=moto_endpoint)
    anchor_table.create_table()
    anchor = open_anchor(f"dynamodb://{anchor_table.table}?region=eu-west-1&endpoint={moto_endpoint}")
    notary = Notary(ServerKey.generate(tmp_path / "server.key"))
    trail = AuditTrail(store, notary, anchor, Spool(tmp_path / "spool"))
    for i in range(3):
        trail.append(record(f"op-{i}"))
        trail.append(record(f"op-{i}", "succeeded"), attachment="out" * 5)
    return trail


def test_the_dynamodb_trail_is_checkpointed_and_anchored(dynamo_trail: AuditTrail) -> None:
    report = dynamo_trail.verify()
    assert report.ok and report.records == 6 and report.last_checkpoint == 6 and report.anchor.status == "match"


def test_a_rewritten_dynamodb_record_fails_verify(dynamo_trail: AuditTrail, store: DynamoDbAuditStore) -> None:
    item = store.client.query(
        TableName=store.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "OP#op-1"}},
    )["Items"][0]
    data = json.loads(item["data"]["S"]) | {"user": "mallory"}
    forged = OperationRecord.model_validate(data).model_copy(update={"hash": ""})
    forged = forged.model_copy(update={"hash": forged.digest()})
    item.update({"data": {"S": forged.model_dump_json()}, "hash": {"S": forged.hash}, "user": {"S": "mallory"}})
    store.client.put_item(TableName=store.table, Item=item)
    report = dynamo_trail.verify()
    assert not report.ok and report.problems


def test_a_rewritten_anchored_dynamodb_record_stops_the_next_append(
    dynamo_trail: AuditTrail, store: DynamoDbAuditStore
) -> None:
    """The record the anchor vouches for (the 6th), replaced by one with a hash of its own: nothing more is written."""
    item = store.client.query(
        TableName=store.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "OP#op-2"}},
        ScanIndexForward=False,
    )["Items"][0]
    data = json.loads(item["data"]["S"]) | {"status": "failed"}
    forged = OperationRecord.model_validate(data).model_copy(update={"hash": ""})
    forged = forged.model_copy(update={"hash": forged.digest()})
    rewritten = {"data": {"S": forged.model_dump_json()}, "hash": {"S": forged.hash}}
    store.client.put_item(TableName=store.table, Item=item | rewritten)
    with pytest.raises(AuditUnavailable, match="audit record 6 is not the one its anchor"):
        dynamo_trail.append(record("op-next"))
    assert store.head()[0] == 6


def test_an_edited_dynamodb_index_attribute_is_found(dynamo_trail: AuditTrail, store: DynamoDbAuditStore) -> None:
    item = store.client.query(
        TableName=store.table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "OP#op-2"}},
    )["Items"][0]
    store.client.put_item(TableName=store.table, Item=item | {"user": {"S": "nobody"}})
    assert any("query index disagrees" in p for p in dynamo_trail.verify().problems)


def test_verify_starts_at_the_mark_kept_in_the_anchor_table(dynamo_trail: AuditTrail) -> None:
    assert dynamo_trail.verify().scope == VerifyScope.FULL
    assert dynamo_trail.anchor.read_mark().seq == 6  # type: ignore[union-attr]
    dynamo_trail.append(record("op-3"))
    dynamo_trail.append(record("op-3", "succeeded"))
    report = dynamo_trail.verify()
    assert report.ok and (report.scope, report.checked_from, report.records_checked) == (VerifyScope.INCREMENTAL, 7, 2)


def test_an_s3_anchor_keeps_the_verify_mark_beside_it(
    moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    anchor = open_anchor(f"s3://anchors/audit/anchor.json?region=us-east-1&endpoint={moto_endpoint}")
    assert isinstance(anchor, S3Anchor)
    anchor.client.create_bucket(Bucket="anchors")
    assert anchor.read_mark() is None
    notary = Notary(ServerKey.generate(tmp_path / "server.key"))
    mark = notary.sign_mark(VerifiedMark(seq=3, hash="a" * 64, verified_at=now(), key_id=""))
    anchor.write_mark(mark)
    assert anchor.read_mark() == mark and anchor.read() is None
    anchor.write_mark(None)
    assert anchor.read_mark() is None
