"""Approvals: a human's signed, single-use consent to apply one exact preview.

An approval binds the preview id, its kind (update or destroy), the stack, the preview's binding digest (program,
config and state digests and the saved plan) and an expiry, signed with HMAC-SHA256 under the server's key. The
approver must differ from the user who asked for the preview. Using an approval consumes it atomically (an
O_EXCL marker file), so it can run at most one operation even across processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel

from engine.errors import ApprovalInvalid
from engine.previews import PreviewRecord, write_atomic
from engine.vocabulary import echo, is_id


class Approval(BaseModel):
    approval_id: str
    preview_id: str
    kind: str
    stack: str
    binding: str
    approver: str
    requested_by: str
    created_at: str
    expires_epoch: float
    signature: str = ""

    def payload(self) -> bytes:
        body = self.model_dump(exclude={"signature"})
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def load_or_create_key(path: Path) -> bytes:
    """The checkout's signing key, created on first use with mode 0600 (production passes DATAMCP_APPROVAL_KEY)."""
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


class ApprovalStore:
    def __init__(self, root: Path, key: bytes) -> None:
        self.root = root
        self.key = key

    def _sign(self, approval: Approval) -> str:
        return hmac.new(self.key, approval.payload(), hashlib.sha256).hexdigest()

    def create(self, preview: PreviewRecord, approver: str, ttl_seconds: int) -> Approval:
        if approver == preview.user:
            raise ApprovalInvalid(
                f"{approver!r} asked for this preview and cannot approve it: another person must approve",
                preview_id=preview.preview_id,
            )
        approval = Approval(
            approval_id=str(uuid.uuid4()),
            preview_id=preview.preview_id,
            kind=preview.kind,
            stack=preview.stack,
            binding=preview.binding(),
            approver=approver,
            requested_by=preview.user,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            expires_epoch=time.time() + ttl_seconds,
        )
        approval = approval.model_copy(update={"signature": self._sign(approval)})
        write_atomic(self.root / f"{approval.approval_id}.json", approval.model_dump_json(indent=2))
        return approval

    def get(self, approval_id: str) -> Approval:
        if not is_id(approval_id):
            raise ApprovalInvalid(f"{echo(approval_id)} is not an approval id")
        try:
            return Approval.model_validate_json((self.root / f"{approval_id}.json").read_text())
        except FileNotFoundError:
            raise ApprovalInvalid(f"no approval {approval_id!r}", approval_id=approval_id) from None

    def signature_ok(self, approval: Approval) -> bool:
        return hmac.compare_digest(approval.signature, self._sign(approval))

    def for_preview(self, preview_id: str) -> list[Approval]:
        """Every stored approval that names this preview (valid or not: the apply requirements decide)."""
        found = []
        for path in sorted(self.root.glob("*.json")) if self.root.exists() else []:
            approval = self.get(path.stem)
            if approval.preview_id == preview_id:
                found.append(approval)
        return found

    def used(self, approval_id: str) -> bool:
        return (self.root / f"{approval_id}.used").exists()

    def consume(self, approval_id: str, operation_id: str) -> None:
        """Mark the approval used; exactly one caller wins, even across processes."""
        try:
            fd = os.open(self.root / f"{approval_id}.used", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ApprovalInvalid("the approval was already used", approval_id=approval_id) from None
        with os.fdopen(fd, "w") as f:
            f.write(operation_id)
