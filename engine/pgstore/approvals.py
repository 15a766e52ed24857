"""Approvals in the shared store. Single use across hosts: consuming inserts the approval's row into
`approvals_used`, and the primary key lets exactly one transaction win, wherever it runs."""

from __future__ import annotations

from engine.approvals import Approval, check_approval_id, parse_approval
from engine.errors import ApprovalInvalid
from engine.pgstore.database import Database


class PgApprovalStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def save(self, approval: Approval) -> Approval:
        check_approval_id(approval.approval_id)
        added = self.db.execute(
            "INSERT INTO approvals (approval_id, preview_id, data) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            approval.approval_id,
            approval.preview_id,
            approval.model_dump_json(),
        )
        if not added:
            raise ApprovalInvalid(f"approval {approval.approval_id!r} exists already", approval_id=approval.approval_id)
        return approval

    def get(self, approval_id: str) -> Approval:
        check_approval_id(approval_id)
        row = self.db.one("SELECT data FROM approvals WHERE approval_id = %s", approval_id)
        if row is None:
            raise ApprovalInvalid(f"no approval {approval_id!r}", approval_id=approval_id)
        return parse_approval(approval_id, row[0])

    def for_preview(self, preview_id: str) -> list[Approval]:
        found = []
        rows = self.db.all("SELECT approval_id, data FROM approvals WHERE preview_id = %s ORDER BY 1", preview_id)
        for approval_id, data in rows:
            try:
                approval = parse_approval(approval_id, data)
            except ApprovalInvalid:
                continue
            if approval.preview_id == preview_id:
                found.append(approval)
        return found

    def used(self, approval_id: str) -> bool:
        return self.db.one("SELECT 1 FROM approvals_used WHERE approval_id = %s", approval_id) is not None

    def consume(self, approval_id: str, operation_id: str) -> None:
        """Mark the approval used; exactly one caller wins, on any host (an approval the store lacks is never used)."""
        won = self.db.execute(
            "INSERT INTO approvals_used (approval_id, operation_id) SELECT approval_id, %s FROM approvals "
            "WHERE approval_id = %s ON CONFLICT DO NOTHING",
            operation_id,
            approval_id,
        )
        if not won:
            self.get(approval_id)  # no approval: says so
            raise ApprovalInvalid("the approval was already used", approval_id=approval_id)

    def mark_used(self, approval_id: str, operation_id: str) -> bool:
        """Record a use made elsewhere (a checkout's marker, imported), whether or not the store has the approval
        yet: an approval added later is used already. False when it was marked before."""
        check_approval_id(approval_id)
        return bool(
            self.db.execute(
                "INSERT INTO approvals_used (approval_id, operation_id) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                approval_id,
                operation_id,
            )
        )
