"""Audit verify at scale (issue 23): a SQLite trail of N records verified in full and incrementally.

The trail is built directly with batched inserts: operations of a `started` and a final record (some failed, one in
a thousand with an attachment), a signed checkpoint after every final record and every 50th record, as the engine
signs them, and the anchor. Records are shaped like the engine's (ids, params, a short summary, ~700 bytes of JSON);
`--stdout-bytes` makes the final records carry output as well. Built once into `--db DIR` (reused when it holds a
trail of the same size), else into a temp dir that is removed afterwards.

Run on demand: `.venv/bin/python benchmarks/bench_audit.py [--records 1000000] [--runs 3] [--db DIR] [--json]`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from engine.audit import GENESIS, OperationRecord
from engine.audit.anchor import FileAnchor
from engine.audit.checkpoints import Checkpoint, Notary
from engine.audit.spool import Spool
from engine.audit.sqlite import SqliteAuditStore
from engine.audit.trail import CHECKPOINT_EVERY, AuditTrail
from engine.trust.server_key import ServerKey
from engine.vocabulary import Status

BATCH = 10_000
FIELDS = list(OperationRecord.model_fields)
STAMP = "2027-01-15T08:00:00.000000+00:00"


def canonical(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def records(n: int, stdout_bytes: int) -> Iterator[tuple[dict[str, Any], str | None]]:
    """N records in chain order (seq, hashes and all), each with the attachment it carries: started and final records
    of operations in turn, as the engine writes them."""
    prev = GENESIS
    output = ("Updating (aws-dev):\n" * (stdout_bytes // 20 + 1))[:stdout_bytes]
    for seq in range(1, n + 1):
        op, final = (seq + 1) // 2, seq % 2 == 0
        attachment = f"full output of op {op}\n" * 1000 if final and op % 1000 == 0 else None
        body: dict[str, Any] = {
            "id": f"op-{op:012d}-6c1f-4c5e-9f4b",
            "seq": seq,
            "user": f"user-{op % 7}",
            "tool": "up" if op % 3 else "preview",
            "stack": f"aws-{('dev', 'prod', 'scale', 'lab')[op % 4]}",
            "params": {"targets": [], "refresh": False, "kind": "update"},
            "status": ("failed" if op % 11 == 0 else "succeeded") if final else "started",
            "start_ts": STAMP,
            "end_ts": STAMP if final else None,
            "stdout": output if final else "",
            "stderr": "",
            "output_truncated": False,
            "error": "exit code 255" if final and op % 11 == 0 else None,
            "resource_refs": [f"urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::logs-{op % 5}"] if final else [],
            "preview_id": f"pv-{op:012d}" if final else None,
            "approval_id": None,
            "update_version": op if final else None,
            "attachment_sha256": hashlib.sha256(attachment.encode()).hexdigest() if attachment else None,
            "summary": {"change_summary": {"update": 2, "same": 52}, "changes": 2} if final else {},
            "host": "bench",
            "pid": 4242,
            "prev_hash": prev,
        }
        body["hash"] = hashlib.sha256(canonical(body)).hexdigest()
        prev = body["hash"]
        yield body, attachment


def build(path: Path, anchor: FileAnchor, key: ServerKey, n: int, stdout_bytes: int) -> None:
    """Write a trail of `n` records to the SQLite store at `path` (batched inserts) and anchor its last checkpoint."""
    store = SqliteAuditStore(path)
    notary = Notary(key)
    key_id = notary.verifier.key_id
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    rows: list[tuple[int, str, str, str]] = []
    index: dict[str, tuple[Any, ...]] = {}
    attachments: list[tuple[str, str]] = []
    cps: list[tuple[int, str]] = []
    last: Checkpoint | None = None

    def flush() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO records (seq, op_id, data, hash) VALUES (?, ?, ?, ?)", rows)
        conn.executemany(
            "INSERT OR REPLACE INTO operations (op_id, seq, stack, user, status, start_ts) VALUES (?, ?, ?, ?, ?, ?)",
            [(op, *fields) for op, fields in index.items()],
        )
        conn.executemany("INSERT INTO attachments (op_id, text) VALUES (?, ?)", attachments)
        conn.executemany("INSERT INTO checkpoints (seq, data) VALUES (?, ?)", cps)
        conn.execute("COMMIT")
        for batch in (rows, attachments, cps):
            batch.clear()
        index.clear()

    for body, attachment in records(n, stdout_bytes):
        seq = body["seq"]
        data = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        rows.append((seq, body["id"], data, body["hash"]))
        index[body["id"]] = (seq, body["stack"], body["user"], body["status"], body["start_ts"])
        if attachment is not None:
            attachments.append((body["id"], attachment))
        if body["status"] != "started" or seq % CHECKPOINT_EVERY == 0:
            payload = {"seq": seq, "hash": body["hash"], "signed_at": STAMP, "key_id": key_id, "note": ""}
            signature = base64.b64encode(key._key.sign(canonical_payload(payload))).decode()
            last = Checkpoint(**payload, signature=signature)
            cps.append((seq, last.model_dump_json()))
        if len(rows) >= BATCH:
            flush()
    flush()
    conn.close()
    if last is not None:
        anchor.write(last)
    sample = store.records(1, 2)
    assert sample[0].model_dump_json() == store.raw("SELECT data FROM records WHERE seq = 1")[0][0]
    assert all(r.digest() == r.hash for r in sample), "the built records must hash as the engine hashes them"


def canonical_payload(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of `runs` calls, and the last result."""
    walls, cpus, result = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), result


def floors(db: Path, key: ServerKey, runs: int) -> dict[str, float]:
    """What no verify of this trail can undercut: reading the rows, sha256 over them, and one Ed25519 check per
    checkpoint (measured on 2,000 and scaled)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def scan() -> int:
        return sum(1 for _ in conn.execute("SELECT seq, data, hash FROM records ORDER BY seq"))

    def sha() -> int:
        return sum(len(hashlib.sha256(row[0].encode()).digest()) for row in conn.execute("SELECT data FROM records"))

    checkpoints = conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]
    sample = [Checkpoint.model_validate_json(r[0]) for r in conn.execute("SELECT data FROM checkpoints LIMIT 2000")]
    verifier = key.verifier()
    messages = [(c.payload(), c.signature) for c in sample]

    def check() -> None:
        for message, signature in messages:
            verifier.verify(message, signature)

    _, signatures, _ = timed(check, runs)
    return {
        "floor_scan_s": timed(scan, runs)[0],
        "floor_sha256_s": timed(sha, runs)[0],
        "checkpoints": checkpoints,
        "floor_signatures_s": signatures * checkpoints / max(len(sample), 1),
    }


def more_operations(trail: AuditTrail, records: int) -> None:
    """`records` more records through the engine's own append (a checkpoint after each final record)."""
    for i in range(records // 2):
        started = OperationRecord(
            id=f"new-{i}", user="bench", tool="up", stack="aws-dev", status=Status.STARTED, start_ts=STAMP
        )
        trail.append(started)
        trail.append(started.model_copy(update={"status": Status.SUCCEEDED, "end_ts": STAMP}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stdout-bytes", type=int, default=0, help="output carried by each final record")
    parser.add_argument("--new", type=int, default=1000, help="records appended before the incremental verify")
    parser.add_argument("--db", type=Path, help="a folder to build the trail in once and reuse")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = args.db or Path(tempfile.mkdtemp(prefix="datamcp-bench-audit-"))
    work.mkdir(parents=True, exist_ok=True)
    key_file, db = work / "notary.key", work / f"audit-{args.records}-{args.stdout_bytes}.db"
    anchor = FileAnchor(work / "anchor" / f"{db.stem}.json")
    figures: dict[str, Any] = {"records": args.records}
    try:
        key = ServerKey.load(key_file) if key_file.exists() else ServerKey.generate(key_file)
        if not db.exists():
            t = time.perf_counter()
            build(db, anchor, key, args.records, args.stdout_bytes)
            figures["built_s"] = time.perf_counter() - t
        figures["db_bytes"] = db.stat().st_size
        figures.update(floors(db, key, args.runs))
        store = SqliteAuditStore(db)
        trail = AuditTrail(store, Notary(key), anchor, Spool(work / "spool"))
        figures["chain_s"], figures["chain_cpu_s"], chain = timed(store.verify, args.runs)
        assert chain.ok and chain.records == args.records, chain.problems[:5]
        figures["full_s"], figures["full_cpu_s"], full = timed(lambda: trail.verify(full=True), args.runs)
        assert full.ok and full.scope == "full", full.problems[:5]
        figures["incremental_none_s"], _, none = timed(trail.verify, args.runs)
        assert none.ok and none.scope == "incremental" and none.records_checked == 0, none
        more_operations(trail, args.new)
        figures["incremental_s"], _, incremental = timed(trail.verify, args.runs)
        assert incremental.ok and incremental.records_checked == args.new, incremental
        figures["incremental_checked"] = incremental.records_checked
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    finally:
        if args.db is None:
            shutil.rmtree(work, ignore_errors=True)
        else:  # the reused trail goes back to its built length
            anchor.write_mark(None)
            conn = sqlite3.connect(db, isolation_level=None)
            for table in ("records", "checkpoints", "operations"):
                column = "op_id LIKE 'new-%'" if table == "operations" else f"seq > {args.records}"
                conn.execute(f"DELETE FROM {table} WHERE {column}")
            last = conn.execute("SELECT data FROM checkpoints ORDER BY seq DESC LIMIT 1").fetchone()
            if last:
                anchor.write(Checkpoint.model_validate_json(last[0]), restart=True)
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
    else:
        for k, v in figures.items():
            print(f"{k:<24} {v:,.2f}" if isinstance(v, float) else f"{k:<24} {v:,}")


if __name__ == "__main__":
    main()
