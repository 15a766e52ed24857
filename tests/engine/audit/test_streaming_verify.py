"""The streaming verify finds exactly what the record-by-record verify found: the chain walk against `verify_chain`
over `chained_records` on rows as stored, plain and attacked, and a full trail verify against the trail verify as it
was before it streamed, on the tamper fixtures."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from engine.audit import GENESIS, OperationRecord, verify_chain
from engine.audit.rows import chained_records
from engine.audit.trail import AuditTrail, sha256
from engine.audit.walk import ChainWalk, Row, canonical, walk
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status
from tests.engine.audit.test_tamper import db, operation, rechain, trail_at

Rows = list[Row]


def record(n: int, **fields: Any) -> OperationRecord:
    base: dict[str, Any] = {
        "id": f"op-{n // 2}",
        "user": "alice",
        "tool": "up",
        "stack": "aws-dev",
        "status": Status.SUCCEEDED if n % 2 else Status.STARTED,
        "start_ts": "2027-01-15T08:00:00.000000+00:00",
    }
    return OperationRecord(**{**base, **fields})


def odd_records() -> list[OperationRecord]:
    """Records as the engine may write them, with what canonical JSON escapes or formats on its own terms."""
    return [
        record(1),
        record(2, params={"b": 1, "a": [1, 2.5, None, True], "é": "ü 😀"}, end_ts="2027-01-15T08:01:00+00:00"),
        record(3, summary={"x": {"z": 1, "y": -0.0}, "big": 10**30, "tiny": 5e-324, "e": 1e16}),
        record(4, stdout='\x00\x1f\x7f\n\t"\\ done', stderr="ä\u2028", output_truncated=True, error="boom"),
        record(5, resource_refs=["urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::logs"], attachment_sha256="ab"),
        record(6, stack=None, preview_id="pv-1", approval_id="ap-1", update_version=7, host="h", pid=42),
        record(7, status=Status.REFUSED, user="bob"),
        record(8),
    ]


def chain_rows(records: list[OperationRecord]) -> Rows:
    """(seq, data, hash) rows as a store appends them."""
    rows, prev = [], GENESIS
    for seq, r in enumerate(records, start=1):
        stored = r.model_copy(update={"seq": seq, "prev_hash": prev, "hash": ""})
        stored = stored.model_copy(update={"hash": stored.digest()})
        rows.append((seq, stored.model_dump_json(), stored.hash))
        prev = stored.hash
    return rows


def edit(seq: int, change: Callable[[str], str]) -> Callable[[Rows], Rows]:
    return lambda rows: [(s, change(d) if s == seq else d, h) for s, d, h in rows]


def redo(seq: int, change: Callable[[dict[str, Any]], Any], **dumps: Any) -> Callable[[Rows], Rows]:
    """Record `seq`'s JSON parsed, changed in place and written again."""

    def rewrite(data: str) -> str:
        body = json.loads(data)
        change(body)
        return json.dumps(body, **dumps)

    return edit(seq, rewrite)


ATTACKS: dict[str, Callable[[Rows], Rows]] = {
    "intact": lambda rows: rows,
    "content edited": edit(3, lambda d: d.replace('"alice"', '"mallory"')),
    "stored hash edited": lambda rows: [(s, d, "f" * 64 if s == 4 else h) for s, d, h in rows],
    "hash in the data edited": redo(2, lambda b: b.update(hash="0" * 64)),
    "data moved to another place": redo(5, lambda b: b.update(seq=50)),
    "record removed": lambda rows: [r for r in rows if r[0] != 6],
    "records swapped": lambda rows: [rows[0], (2, *rows[2][1:]), (3, *rows[1][1:]), *rows[3:]],
    "not JSON": edit(2, lambda d: "not json"),
    "JSON but not an object": edit(2, lambda d: "[]"),
    "an extra key": redo(3, lambda b: b.update(extra=1)),
    "a key left out": redo(1, lambda b: b.pop("pid")),
    "a key left out that had no default value": redo(1, lambda b: b.pop("user")),
    "a float for an int": redo(1, lambda b: b.update(pid=0.0)),
    "a string for an int": redo(1, lambda b: b.update(seq="1")),
    "a number for a bool": redo(1, lambda b: b.update(output_truncated=0)),
    "a number for a string": redo(1, lambda b: b.update(stack=5)),
    "a string for an optional int": redo(1, lambda b: b.update(update_version="7")),
    "an unknown status": redo(2, lambda b: b.update(status="bogus")),
    "a status in capitals": redo(2, lambda b: b.update(status="SUCCEEDED")),
    "a reference that is not a string": redo(5, lambda b: b.update(resource_refs=[1])),
    "params that are not an object": redo(2, lambda b: b.update(params=[1])),
    "NaN in params": redo(2, lambda b: b["params"].update(a=float("nan"))),
    "a duplicate key, the first wrong": edit(3, lambda d: d.replace('"user":"alice"', '"user":"x","user":"alice"')),
    "a duplicate key, the last wrong": edit(3, lambda d: d.replace('"user":"alice"', '"user":"alice","user":"x"')),
    "a duplicate key in params": edit(2, lambda d: d.replace('"b":1', '"b":2,"b":1')),
    "pretty-printed": redo(4, lambda b: None, indent=2),
    "keys in another order": redo(4, lambda b: None, sort_keys=True),
    "non-ASCII escaped": redo(2, lambda b: None),
    "a lone surrogate": edit(2, lambda d: d.replace("ü", "\\ud800")),
    "an out-of-range float": edit(3, lambda d: d.replace("1e+16", "1e400")),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_streaming_walk_finds_what_the_record_by_record_check_finds(attack: str) -> None:
    rows = ATTACKS[attack](chain_rows(odd_records()))
    records = chained_records(rows)
    walker = ChainWalk().feed(rows)
    assert walker.report() == verify_chain(records)
    assert {k: tuple(v) for k, v in walker.latest.items()} == {
        r.id: (r.seq, r.stack, r.user, r.status, r.start_ts) for r in records
    }
    assert walker.attachments == [(r.seq, r.id, r.attachment_sha256) for r in records if r.attachment_sha256]
    if attack == "intact":
        assert walker.report().ok and walker.count == len(rows)


def test_a_part_of_the_chain_is_walked_as_verify_chain_walks_it() -> None:
    rows = chain_rows(odd_records())
    part = rows[3:]
    assert walk(part, first=4, prev=rows[2][2]) == verify_chain(chained_records(part), first=4, prev=rows[2][2])
    assert walk(part, first=4, prev=rows[2][2]).ok


def test_the_canonical_text_is_the_one_records_hash() -> None:
    for r in odd_records():
        body = r.model_dump(exclude={"hash"})
        assert canonical(json.loads(r.model_dump_json(exclude={"hash"}))) == json.dumps(
            body, sort_keys=True, separators=(",", ":")
        )


# --- the whole trail, against the verify before it streamed --------------------------------------------------------
def verify_as_before(trail: AuditTrail) -> dict[str, Any]:
    """The trail verify as it was: every record as a model in one list."""
    store = trail.store
    records = store.records()
    problems = list(verify_chain(records).problems)
    problems += store.index_problems({r.id: r for r in records})
    for r in records:
        if r.attachment_sha256 is not None:
            text = store.attachment(r.id)
            if text is None or sha256(text) != r.attachment_sha256:
                problems.append(f"record {r.seq} ({r.id}): its attachment is missing or was edited")
    checkpoints = store.checkpoints()
    by_seq = {r.seq: r for r in records}
    for cp in checkpoints:
        problem = trail.notary.problem(cp)
        if problem is None and cp.seq and (cp.seq not in by_seq or by_seq[cp.seq].hash != cp.hash):
            problem = f"checkpoint at record {cp.seq}: the chain there no longer ends in the signed hash"
        if problem:
            problems.append(problem)
    anchored, status = trail.anchor.read(), "absent"
    if anchored is not None:
        status = "match"
        at = next((r for r in records if r.seq == anchored.seq), None)
        if trail.notary.problem(anchored) is not None:
            problems.append("the anchor's checkpoint signature does not verify")
            status = "mismatch"
        elif len(records) < anchored.seq:
            problems.append(f"the anchor vouches for {anchored.seq} records; the store has {len(records)} (truncated)")
            status = "behind"
        elif anchored.seq and (at is None or at.hash != anchored.hash):
            problems.append(f"record {anchored.seq} is not the one the anchor vouches for (rewritten)")
            status = "mismatch"
    last = checkpoints[-1].seq if checkpoints else None
    unsigned = [r for r in records if last is None or r.seq > last]
    problems += [
        f"record {r.seq} ({r.tool} {r.status}) is after the last signed checkpoint"
        for r in unsigned
        if r.status != Status.STARTED
    ]
    return {
        "ok": not problems,
        "records": len(records),
        "problems": problems,
        "checkpoints": len(checkpoints),
        "last_checkpoint": last,
        "unsigned_records": len(unsigned),
        "anchor_status": status,
    }


def _edit_data(trail: AuditTrail, seq: int, old: str, new: str) -> None:
    data = db(trail).execute("SELECT data FROM records WHERE seq = ?", (seq,)).fetchone()[0]
    db(trail).execute("UPDATE records SET data = ? WHERE seq = ?", (data.replace(old, new), seq))


TRAIL_ATTACKS: dict[str, Callable[[AuditTrail], Any]] = {
    "intact": lambda t: None,
    "a record edited": lambda t: _edit_data(t, 3, '"alice"', '"mallory"'),
    "a record edited and rechained": lambda t: rechain(
        t, lambda rs: [r.model_copy(update={"user": "mallory"}) if r.seq == 3 else r for r in rs]
    ),
    "an operation erased and rechained": lambda t: rechain(t, lambda rs: [r for r in rs if r.id != "op-1"]),
    "rechained, checkpoints removed": lambda t: (
        rechain(t, lambda rs: [r.model_copy(update={"status": Status.FAILED}) if r.seq == 8 else r for r in rs]),
        db(t).execute("DELETE FROM checkpoints"),
    ),
    "the index edited": lambda t: db(t).execute("UPDATE operations SET user = 'nobody' WHERE op_id = 'op-1'"),
    "the index pointed elsewhere": lambda t: db(t).execute("UPDATE operations SET seq = 2 WHERE op_id = 'op-3'"),
    "an index row removed": lambda t: db(t).execute("DELETE FROM operations WHERE op_id = 'op-0'"),
    "an attachment edited": lambda t: db(t).execute("UPDATE attachments SET text = 'y' WHERE op_id = 'op-2'"),
    "the newest records truncated": lambda t: (
        db(t).execute("DELETE FROM records WHERE seq > 6"),
        db(t).execute("DELETE FROM checkpoints WHERE seq > 6"),
    ),
    "the last checkpoint removed": lambda t: db(t).execute("DELETE FROM checkpoints WHERE seq = 8"),
    "a checkpoint moved": lambda t: db(t).execute(
        "UPDATE checkpoints SET data = replace(data, '\"seq\":4', '\"seq\":5')"
    ),
    "a checkpoint edited": lambda t: db(t).execute(
        'UPDATE checkpoints SET data = replace(data, \'"note":""\', \'"note":"x"\') WHERE seq = 6'
    ),
    "a record's stored hash edited": lambda t: db(t).execute("UPDATE records SET hash = 'f' WHERE seq = 5"),
}


@pytest.mark.parametrize("attack", TRAIL_ATTACKS)
def test_a_full_verify_reports_what_the_verify_before_streaming_reported(
    attack: str, tmp_path: Path, key: ServerKey
) -> None:
    trail = trail_at(tmp_path, key)
    for i in range(4):
        operation(trail, f"op-{i}", attachment="x" * 20 if i == 2 else None)
    trail.append(OperationRecord(id="op-9", user="al", tool="up", stack="aws-dev", status="started", start_ts="t"))
    TRAIL_ATTACKS[attack](trail)
    report = trail.verify(full=True)
    fields = report.model_dump(include={"ok", "records", "problems", "checkpoints", "last_checkpoint"})
    assert {**fields, "unsigned_records": report.unsigned_records, "anchor_status": report.anchor.status} == (
        verify_as_before(trail)
    )
    assert report.ok == (attack == "intact")


@pytest.fixture
def key(tmp_path: Path) -> ServerKey:
    return ServerKey.generate(tmp_path / "notary.key")
