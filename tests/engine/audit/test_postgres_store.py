"""The PostgreSQL audit store against a real PostgreSQL 15 server (a throwaway cluster on loopback): the same chain,
index, checkpoints and verify as SQLite; appends from several hosts stay one linear chain; the schema is versioned;
a database that is down fails closed."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import engine.audit.postgres
from engine.audit import OperationRecord, now, open_store
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Checkpoint, Notary
from engine.audit.postgres import PostgresAuditStore
from engine.audit.spool import Spool
from engine.audit.trail import AuditTrail, VerifyScope
from engine.errors import AuditUnavailable
from engine.pgstore.schema import MIGRATIONS
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status
from tests.postgres import postgres_cluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def url(cluster: str, request: pytest.FixtureRequest) -> str:
    """A fresh database per test."""
    name = "t_" + request.node.name.lower().replace("[", "_").replace("]", "").replace("-", "_")[:50]
    with psycopg.connect(cluster, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    return cluster.rsplit("/", 1)[0] + f"/{name}"


def record(op_id: str, status: str = "started", stack: str = "aws-dev", user: str = "alice") -> OperationRecord:
    return OperationRecord(id=op_id, user=user, tool="up", stack=stack, status=status, start_ts=now())  # type: ignore[arg-type]


def test_the_chain_index_and_checkpoints_work_as_in_sqlite(url: str) -> None:
    store = open_store(url)
    assert isinstance(store, PostgresAuditStore)
    started = record("op-1")
    first = store.append(started, attachment="full output")
    second = store.append(started.model_copy(update={"status": Status.SUCCEEDED}))
    assert (first.seq, second.seq) == (1, 2) and second.prev_hash == first.hash == first.digest()
    assert store.get("op-1").status == "succeeded"  # type: ignore[union-attr]
    assert store.attachment("op-1") == "full output" and store.get("nope") is None
    for i in range(2, 8):
        store.append(record(f"op-{i}", stack="aws-dev" if i % 2 else "gcp-dev", user="bob" if i < 4 else "alice"))
    assert [r.id for r in store.query(stack="aws-dev").items] == ["op-7", "op-5", "op-3", "op-1"]
    assert {r.id for r in store.query(user="bob").items} == {"op-2", "op-3"}
    page1 = store.query(limit=4)
    page2 = store.query(limit=4, cursor=page1.next_cursor)
    assert len(page1.items) == 4 and page2.next_cursor is None
    assert {r.id for r in page1.items + page2.items} == {f"op-{i}" for i in range(1, 8)}
    assert all(r.status == "started" for r in store.running()) and len(store.running()) == 6
    store.put_checkpoint(Checkpoint(seq=8, hash=store.head()[1], signed_at=now(), key_id="k", signature="s"))
    assert [c.seq for c in store.checkpoints()] == [8] and store.head()[0] == 8
    assert store.verify().ok and store.index_problems({r.id: r for r in store.records()}) == []


def test_records_are_read_by_their_place_in_the_chain(url: str) -> None:
    store = PostgresAuditStore(url)
    for i in range(5):
        store.append(record(f"op-{i}"))
    assert [r.id for r in store.records(2, 3)] == ["op-1", "op-2"] and [r.seq for r in store.records(4)] == [4, 5]
    assert store.records(9, 9) == [] and len(store.records()) == 5
    store.close()


def test_appends_from_several_hosts_stay_one_linear_chain(url: str) -> None:
    """Four stores (four hosts' pools) appending at once: one chain, no gap, no fork."""
    stores = [PostgresAuditStore(url) for _ in range(4)]

    def host(n: int) -> None:
        for i in range(25):
            stores[n].append(record(f"host{n}-op{i}"))

    threads = [threading.Thread(target=host, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    records = stores[0].records()
    assert [r.seq for r in records] == list(range(1, 101))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(records))
    assert stores[0].verify().ok


def test_an_edit_or_a_deletion_in_the_database_is_detected(url: str) -> None:
    store = PostgresAuditStore(url)
    for i in range(5):
        store.append(record(f"op-{i}"))
    data = store.raw("SELECT data FROM records WHERE seq = 3")[0][0]
    store.raw("UPDATE records SET data = %s WHERE seq = 3", data.replace('"alice"', '"mallory"'))
    report = store.verify()
    assert not report.ok and any("record 3" in p and "edited" in p for p in report.problems)
    store.raw("DELETE FROM records WHERE seq = 4")
    assert not store.verify().ok


def test_verify_streams_the_chain_and_then_starts_at_the_last_full_verify(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine.audit.postgres, "STREAM_ROWS", 3)  # several fetches from the server-side cursor
    store = PostgresAuditStore(url)
    notary = Notary(ServerKey(Ed25519PrivateKey.generate()))
    trail = AuditTrail(store, notary, FileAnchor(tmp_path / "anchor.json"), Spool(tmp_path / "spool"))

    def operation(op_id: str) -> None:
        started = trail.append(record(op_id))
        trail.append(started.model_copy(update={"status": Status.SUCCEEDED}))

    for i in range(5):
        operation(f"op-{i}")
    assert [row[0] for row in store.rows()] == list(range(1, 11)) and [row[0] for row in store.rows(4, 5)] == [4, 5]
    full = trail.verify()
    assert (full.ok, full.scope, full.records, full.checkpoints) == (True, VerifyScope.FULL, 10, 5)
    operation("op-5")
    data = store.raw("SELECT data FROM records WHERE seq = 11")[0][0]
    store.raw("UPDATE records SET data = %s WHERE seq = 11", data.replace('"alice"', '"mallory"'))
    report = trail.verify()
    assert (report.scope, report.checked_from, report.records_checked) == (VerifyScope.INCREMENTAL, 11, 2)
    assert report.problems == ["record 11 (op-5): content does not match its hash (edited)"]
    store.close()


def test_the_schema_is_versioned_and_a_newer_one_is_refused(url: str) -> None:
    PostgresAuditStore(url)
    PostgresAuditStore(url)  # a second start applies nothing again
    with psycopg.connect(url, autocommit=True) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM datamcp_schema ORDER BY version").fetchall()]
        assert versions == list(range(1, len(MIGRATIONS) + 1))
        conn.execute("INSERT INTO datamcp_schema (version) VALUES (%s)", (len(MIGRATIONS) + 1,))
    with pytest.raises(AuditUnavailable, match="newer"):
        PostgresAuditStore(url)


def test_a_database_that_is_down_fails_closed() -> None:
    with postgres_cluster() as url:
        store = PostgresAuditStore(url)
        store.append(record("op-1"))
    with pytest.raises(AuditUnavailable):  # the cluster is gone now
        store.append(record("op-2"))
    with pytest.raises(AuditUnavailable):
        open_store(url)
