"""Approvals: a person's signed, single-use consent to apply one exact preview.

An approval names the preview, its kind and stack, the preview's binding digest (everything that decides what gets
applied) and its own expiry, and is signed by one of three methods: `ssh` (the approver's own SSH key, verified
against the trust list), `server` (the server's Ed25519 key, for people it authenticated itself: the console, CI's
environment reviewers) or `dev` (a checkout's local HMAC key: convenient, and not a trust boundary). Using an
approval consumes it atomically (an O_EXCL marker file), so it runs at most one operation even across processes.
"""

from __future__ import annotations

import logging
import os
import secrets
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, Field, ValidationError

from engine.errors import ApprovalInvalid
from engine.previews import STORE_MODE
from engine.store_files import ensure_dir, read_regular, write_atomic
from engine.trust import canonical_json
from engine.vocabulary import Kind, echo, is_id

log = logging.getLogger(__name__)
APPROVAL_LIMIT = 64 * 1024  # bytes: an approval is small; anything bigger is not one


class Method(StrEnum):
    DEV = "dev"
    SSH = "ssh"
    SERVER = "server"


class Approval(BaseModel):
    approval_id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    preview_id: str
    kind: Kind
    stack: str
    binding: str = Field(description="The preview's binding digest: what exactly is approved.")
    approver: str = Field(description="The approver's principal, in normal form.")
    requested_by: str
    created_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    expires_epoch: int
    method: Method
    evidence: dict[str, str] = Field(default_factory=dict, description="How the server knew the approver.")
    signature: str = ""

    def payload(self) -> bytes:
        """The bytes every method signs: all fields but the signature, canonical JSON."""
        return canonical_json(self.model_dump(mode="json", exclude={"signature"}))


def load_or_create_key(path: Path) -> bytes:
    """The checkout's dev-mode signing key, created on first use with mode 0600."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as f:
            f.write(key)
        return key


class Approvals(Protocol):
    """Where approvals are kept and used up: files under the state dir, or the shared store (engine/pgstore)."""

    def save(self, approval: Approval) -> Approval: ...

    def get(self, approval_id: str) -> Approval: ...

    def for_preview(self, preview_id: str) -> list[Approval]: ...

    def used(self, approval_id: str) -> bool: ...

    def consume(self, approval_id: str, operation_id: str) -> None: ...


def check_approval_id(approval_id: str) -> None:
    if not is_id(approval_id):
        raise ApprovalInvalid(f"{echo(approval_id)} is not an approval id")


def parse_approval(approval_id: str, data: bytes | str) -> Approval:
    """The approval stored under `approval_id`: bounded, well formed, and really that approval."""
    try:
        if len(data) > APPROVAL_LIMIT:
            raise ValueError("too large")
        approval = Approval.model_validate_json(data)
    except (ValidationError, ValueError, UnicodeDecodeError, MemoryError):
        raise ApprovalInvalid(f"approval {approval_id!r} is unreadable", approval_id=approval_id) from None
    if approval.approval_id != approval_id:
        raise ApprovalInvalid(f"the record of approval {approval_id!r} holds another approval")
    return approval


class ApprovalStore:
    """Approval files (anyone may add one: only signatures make an approval) and the single-use markers (in a
    folder only the engine's user can write, so nobody un-uses or pre-uses an approval)."""

    def __init__(self, root: Path, consumed: Path | None = None) -> None:
        self.root = root
        self.consumed = consumed or root.parent / "consumed"

    def save(self, approval: Approval) -> Approval:
        ensure_dir(self.root, STORE_MODE)
        write_atomic(self.root / f"{approval.approval_id}.json", approval.model_dump_json(indent=2))
        return approval

    def get(self, approval_id: str) -> Approval:
        check_approval_id(approval_id)
        try:
            data = read_regular(self.root / f"{approval_id}.json", APPROVAL_LIMIT)
        except FileNotFoundError:
            raise ApprovalInvalid(f"no approval {approval_id!r}", approval_id=approval_id) from None
        except OSError:
            raise ApprovalInvalid(f"approval {approval_id!r} is unreadable", approval_id=approval_id) from None
        return parse_approval(approval_id, data)

    def for_preview(self, preview_id: str) -> list[Approval]:
        """Every readable approval that names this preview; unreadable files are skipped with a warning."""
        found = []
        for path in sorted(self.root.glob("*.json")) if self.root.exists() else []:
            try:
                approval = self.get(path.stem)
            except ApprovalInvalid as exc:
                log.warning("skipping %s in the approval store: %s", echo(path.name), exc.message)
                continue
            if approval.preview_id == preview_id:
                found.append(approval)
        return found

    def used(self, approval_id: str) -> bool:
        return (self.consumed / f"{approval_id}.used").exists()

    def consume(self, approval_id: str, operation_id: str) -> None:
        """Mark the approval used; exactly one caller wins, even across processes."""
        try:
            marker = ensure_dir(self.consumed, 0o700) / f"{approval_id}.used"
            fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            raise ApprovalInvalid("the approval was already used", approval_id=approval_id) from None
        with os.fdopen(fd, "w") as f:
            f.write(operation_id)
