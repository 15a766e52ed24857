"""Moving a checkout onto the shared store: the previews (with their plans), approvals, used approvals and the
audit chain kept in files under its state dir are copied into PostgreSQL (`datamcp store import`). Copying is
idempotent for previews and approvals; the audit chain is adopted whole (same hashes and signed checkpoints), and
only into an empty audit store."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from engine.approvals import Approval, ApprovalStore
from engine.audit.postgres import PostgresAuditStore
from engine.audit.sqlite import SqliteAuditStore
from engine.errors import ApprovalInvalid, PreviewNotFound
from engine.pgstore.approvals import PgApprovalStore
from engine.pgstore.database import Database
from engine.pgstore.previews import PgPreviewStore
from engine.previews import PreviewStore
from engine.vocabulary import is_id

EVERY = 1_000_000


class ImportReport(BaseModel):
    previews: int = 0
    approvals: int = 0
    used: int = 0
    records: int = 0
    checkpoints: int = 0


def import_files(state: Path, db: Database, audit: PostgresAuditStore | None) -> ImportReport:
    """The audit chain first (refused whole if the store's audit holds another chain), then the rest."""
    report = ImportReport()
    sqlite = state / "audit.db"
    if audit is not None and sqlite.is_file():
        report.records, report.checkpoints = _audit(SqliteAuditStore(sqlite), audit)
    report.previews = _previews(state, db)
    report.approvals, report.used = _approvals(state, db)
    return report


def _previews(state: Path, db: Database) -> int:
    target, copied = PgPreviewStore(db, state / "plans"), 0
    for record in PreviewStore(state / "previews").recent(limit=EVERY):
        try:
            target.get(record.preview_id)
        except PreviewNotFound:
            target.save(record)
            copied += 1
    return copied


def _approvals(state: Path, db: Database) -> tuple[int, int]:
    source, target = ApprovalStore(state / "approvals"), PgApprovalStore(db)
    copied = used = 0
    for path in sorted(source.root.glob("*.json")) if source.root.is_dir() else []:
        approval = _approval(source, path.stem)
        if approval is not None and _approval(target, approval.approval_id) is None:
            target.save(approval)
            copied += 1
    for marker in sorted(source.consumed.glob("*.used")) if source.consumed.is_dir() else []:
        if is_id(marker.stem) and target.mark_used(marker.stem, marker.read_text().strip() or "imported"):
            used += 1
    return copied, used


def _approval(store: ApprovalStore | PgApprovalStore, approval_id: str) -> Approval | None:
    """The approval, or None when there is none (or it is unreadable: skipped, as the engine skips it)."""
    try:
        return store.get(approval_id)
    except ApprovalInvalid:
        return None


def _audit(source: SqliteAuditStore, target: PostgresAuditStore) -> tuple[int, int]:
    """The whole chain, unless it is empty or was adopted already (the store's head is the file's)."""
    records = source.records()
    if not records or target.head() == source.head():
        return 0, 0
    attachments = {r.id: text for r in records if (text := source.attachment(r.id)) is not None}
    checkpoints = source.checkpoints()
    target.adopt(records, attachments, checkpoints)
    return len(records), len(checkpoints)
