"""Signed checkpoints: the chain head signed with the server's Ed25519 key, so a rebuilt chain does not verify. Also
the mark a full verify leaves (signed the same way), where later verifies start."""

from __future__ import annotations

from typing import Any, NamedTuple

from pydantic import BaseModel
from pydantic_core import from_json

from engine.errors import DataMcpError
from engine.trust import canonical_json
from engine.trust.server_key import ServerKey, ServerVerifier

FIELDS = frozenset({"seq", "hash", "signed_at", "key_id", "signature", "note"})
MARK_PURPOSE = "datamcp audit verify: records 1 to seq were found intact"  # no checkpoint payload has this field


class Checkpoint(BaseModel):
    """The chain up to `seq` ends in `hash`, as the key `key_id` signed at `signed_at`."""

    seq: int
    hash: str
    signed_at: str
    key_id: str
    signature: str = ""
    note: str = ""  # e.g. "chain restart: <reason>"

    def payload(self) -> bytes:
        return canonical_json(self.model_dump(exclude={"signature"}))


class VerifiedMark(BaseModel):
    """A full verify found records 1 to `seq` intact, ending in `hash` (its last signed checkpoint), at
    `verified_at`. Signed by the notary, so nobody without the key can move where an incremental verify starts."""

    seq: int
    hash: str
    verified_at: str
    key_id: str
    signature: str = ""

    def payload(self) -> bytes:
        return canonical_json({"purpose": MARK_PURPOSE, **self.model_dump(exclude={"signature"})})


class CheckedCheckpoint(NamedTuple):
    """A stored checkpoint as verify reads it: its place, hash, and why it is not genuine (None: it is)."""

    seq: int
    hash: str
    problem: str | None


class Notary:
    """Signs checkpoints (the server key, or in dev mode the checkout's own key) and checks them."""

    def __init__(self, key: ServerKey) -> None:
        self.key = key
        self.verifier = key.verifier()
        self.key_id = self.verifier.key_id

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        stamped = checkpoint.model_copy(update={"key_id": self.key_id, "signature": ""})
        return stamped.model_copy(update={"signature": self.key.sign(stamped.payload())})

    def problem(self, checkpoint: Checkpoint) -> str | None:
        """Why this checkpoint is not genuine, or None."""
        return _problem(
            self.verifier, self.key_id, checkpoint.seq, checkpoint.key_id, checkpoint.payload(), checkpoint.signature
        )

    def check(self, seq: int, data: str) -> CheckedCheckpoint:
        """A stored checkpoint (its place `seq` and JSON) checked as `problem` checks it, read without a model when it
        holds exactly the checkpoint's fields with their JSON types (so the signed payload is the same bytes)."""
        try:
            d: Any = from_json(data)
        except ValueError:
            d = None
        if (
            type(d) is dict
            and d.keys() == FIELDS
            and type(d["seq"]) is int
            and all(type(d[k]) is str for k in ("hash", "signed_at", "key_id", "signature", "note"))
        ):
            signature = d.pop("signature")
            problem = _problem(self.verifier, self.key_id, d["seq"], d["key_id"], canonical_json(d), signature)
            return CheckedCheckpoint(d["seq"], d["hash"], problem)
        try:
            checkpoint = Checkpoint.model_validate_json(data)
        except ValueError:
            return CheckedCheckpoint(seq, "", f"checkpoint at record {seq}: unreadable, not a checkpoint")
        return CheckedCheckpoint(checkpoint.seq, checkpoint.hash, self.problem(checkpoint))

    def sign_mark(self, mark: VerifiedMark) -> VerifiedMark:
        stamped = mark.model_copy(update={"key_id": self.key_id, "signature": ""})
        return stamped.model_copy(update={"signature": self.key.sign(stamped.payload())})

    def mark_problem(self, mark: VerifiedMark) -> str | None:
        """Why this mark was not left by a full verify with this key, or None."""
        if mark.key_id != self.key_id:
            return f"the last full verify's mark is signed by {mark.key_id}, not this server's key"
        try:
            self.verifier.verify(mark.payload(), mark.signature)
        except DataMcpError:
            return "the last full verify's mark: the signature does not verify (altered or forged)"
        return None


def _problem(
    verifier: ServerVerifier, key_id: str, seq: int, signed_by: str, payload: bytes, signature: str
) -> str | None:
    if signed_by != key_id:
        return f"checkpoint at record {seq} is signed by {signed_by}, not this server's key"
    try:
        verifier.verify(payload, signature)
    except DataMcpError:
        return f"checkpoint at record {seq}: the signature does not verify (altered or forged)"
    return None
