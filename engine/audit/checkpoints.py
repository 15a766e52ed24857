"""Signed checkpoints: the chain head signed with the server's Ed25519 key, so a rebuilt chain does not verify."""

from __future__ import annotations

from pydantic import BaseModel

from engine.errors import DataMcpError
from engine.trust import canonical_json
from engine.trust.server_key import ServerKey, ServerVerifier


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


class Notary:
    """Signs checkpoints (the server key, or in dev mode the checkout's own key) and checks them."""

    def __init__(self, key: ServerKey) -> None:
        self.key = key
        self.verifier = key.verifier()

    def sign(self, checkpoint: Checkpoint) -> Checkpoint:
        stamped = checkpoint.model_copy(update={"key_id": self.verifier.key_id, "signature": ""})
        return stamped.model_copy(update={"signature": self.key.sign(stamped.payload())})

    def problem(self, checkpoint: Checkpoint) -> str | None:
        """Why this checkpoint is not genuine, or None."""
        return checkpoint_problem(self.verifier, checkpoint)


def checkpoint_problem(verifier: ServerVerifier, checkpoint: Checkpoint) -> str | None:
    if checkpoint.key_id != verifier.key_id:
        return f"checkpoint at record {checkpoint.seq} is signed by {checkpoint.key_id}, not this server's key"
    try:
        verifier.verify(checkpoint.payload(), checkpoint.signature)
    except DataMcpError:
        return f"checkpoint at record {checkpoint.seq}: the signature does not verify (altered or forged)"
    return None
