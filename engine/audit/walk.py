"""The chain checked as its rows stream by: each record hashed from its stored JSON in one tight loop, without a
model per record, with exactly the findings of `verify_chain` over `stored_record`s (the reference, kept for any row
that is not plainly a record as the engine writes it)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Container, Iterable
from typing import Any, NamedTuple

from pydantic_core import from_json

from engine.audit import GENESIS, OperationRecord, VerifyReport
from engine.vocabulary import Status

Row = tuple[int, str, str]  # (seq, data, stored hash) as a store holds a record
FIELDS = frozenset(OperationRecord.model_fields)
STATUSES = frozenset(s.value for s in Status)


def stored_record(seq: int, data: str, stored_hash: str) -> OperationRecord:
    """The record a row holds; an unreadable one becomes a placeholder, and one whose stored hash or position disagrees
    with its data is marked (its hash gets `-mismatch`) so that verify reports it."""
    try:
        record = OperationRecord.model_validate_json(data)
    except ValueError:
        record = OperationRecord(id="?", user="?", tool="?", status=Status.FAILED, start_ts="", seq=seq)
    if record.hash != stored_hash or record.seq != seq:
        record = record.model_copy(update={"hash": stored_hash + "-mismatch"})
    return record


def _canonical_encoder() -> Callable[[Any], str]:
    """`json.dumps(body, sort_keys=True, separators=(",", ":"))`, the text `OperationRecord.digest` hashes, with the
    C encoder built once instead of on every call."""
    plain = json.JSONEncoder(sort_keys=True, separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)  # the C accelerator, absent on some builds
    if make is None:
        return plain.encode
    encode = make(None, plain.default, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True)
    return lambda body: "".join(encode(body, 0))


canonical = _canonical_encoder()


def _plain(d: dict[str, Any]) -> bool:
    """The model's fields and no others, each with exactly the JSON type the model reads without converting it, so the
    parsed values are the model's values and hash as the model's would (anything else goes through the model)."""
    return (
        d.keys() == FIELDS
        and type(d["id"]) is str
        and type(d["seq"]) is int
        and type(d["user"]) is str
        and type(d["tool"]) is str
        and (d["stack"] is None or type(d["stack"]) is str)
        and type(d["params"]) is dict
        and type(d["status"]) is str
        and d["status"] in STATUSES
        and type(d["start_ts"]) is str
        and (d["end_ts"] is None or type(d["end_ts"]) is str)
        and type(d["stdout"]) is str
        and type(d["stderr"]) is str
        and type(d["output_truncated"]) is bool
        and (d["error"] is None or type(d["error"]) is str)
        and type(d["resource_refs"]) is list
        and all(type(ref) is str for ref in d["resource_refs"])
        and (d["preview_id"] is None or type(d["preview_id"]) is str)
        and (d["approval_id"] is None or type(d["approval_id"]) is str)
        and (d["update_version"] is None or type(d["update_version"]) is int)
        and (d["attachment_sha256"] is None or type(d["attachment_sha256"]) is str)
        and type(d["summary"]) is dict
        and type(d["host"]) is str
        and type(d["pid"]) is int
        and type(d["prev_hash"]) is str
        and type(d["hash"]) is str
    )


class Latest(NamedTuple):
    """What the query index must say about an operation: its newest record's place and fields."""

    seq: int
    stack: str | None
    user: str
    status: str
    start_ts: str


class ChainWalk:
    """Walks rows in sequence order from record `first` (after the record whose hash is `prev`) and keeps what the
    rest of a verify needs: each operation's newest record, the attachments to check, the hashes at the `watch`ed
    places, and the records after the last signed checkpoint (`signed_to`)."""

    def __init__(
        self,
        *,
        first: int = 1,
        prev: str = GENESIS,
        watch: Container[int] = (),
        signed_to: int | None = None,
        anchor_seq: int | None = None,
    ) -> None:
        self.first, self.prev = first, prev
        self.watch, self.signed_to, self.anchor_seq = watch, signed_to, anchor_seq
        self.count = 0
        self.problems: list[str] = []
        self.latest: dict[str, Latest] = {}
        self.attachments: list[tuple[int, str, str]] = []  # (seq, operation id, sha256 of the attachment)
        self.hashes: dict[int, str] = {}  # the last record's hash at each watched place
        self.anchored: str | None = None  # the first record's hash at the anchor's place
        self.unsigned = 0
        self.unsigned_problems: list[str] = []

    def feed(self, rows: Iterable[Row]) -> ChainWalk:
        expected, prev, problems = self.first + self.count, self.prev, self.problems
        latest, watch, hashes, signed_to = self.latest, self.watch, self.hashes, self.signed_to
        sha256, parse, encode = hashlib.sha256, from_json, canonical
        for seq, data, stored in rows:
            try:
                d = parse(data)
            except ValueError:
                d = None
            if type(d) is dict and _plain(d):
                rseq, rid, h = d["seq"], d["id"], d.pop("hash")
                if h != stored or rseq != seq:
                    h = stored + "-mismatch"
                intact = sha256(encode(d).encode()).hexdigest() == h
                linked = d["prev_hash"] == prev
                fields = Latest(rseq, d["stack"], d["user"], d["status"], d["start_ts"])
                tool, attachment = d["tool"], d["attachment_sha256"]
            else:
                record = stored_record(seq, data, stored)
                rseq, rid, h = record.seq, record.id, record.hash
                intact, linked = record.digest() == h, record.prev_hash == prev
                fields = Latest(rseq, record.stack, record.user, record.status, record.start_ts)
                tool, attachment = record.tool, record.attachment_sha256
            if rseq != expected:
                problems.append(f"record {rseq}: expected sequence {expected} (a record is missing or reordered)")
            if not linked:
                problems.append(f"record {rseq} ({rid}): prev_hash does not match the record before it")
            if not intact:
                problems.append(f"record {rseq} ({rid}): content does not match its hash (edited)")
            latest[rid] = fields
            if attachment is not None:
                self.attachments.append((rseq, rid, attachment))
            if rseq in watch:
                hashes[rseq] = h
            if rseq == self.anchor_seq and self.anchored is None:
                self.anchored = h
            if signed_to is None or rseq > signed_to:
                self.unsigned += 1
                if fields.status != Status.STARTED:
                    self.unsigned_problems.append(
                        f"record {rseq} ({tool} {fields.status}) is after the last signed checkpoint"
                    )
            prev, expected = h, expected + 1
        self.count, self.prev = expected - self.first, prev
        return self

    def report(self) -> VerifyReport:
        return VerifyReport(ok=not self.problems, records=self.count, problems=list(self.problems))


def walk(rows: Iterable[Row], first: int = 1, prev: str = GENESIS) -> VerifyReport:
    """`verify_chain` over rows as they stream by."""
    return ChainWalk(first=first, prev=prev).feed(rows).report()
