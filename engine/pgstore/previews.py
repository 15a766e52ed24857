"""Previews in the shared store: the record and its saved plan, so a preview made on one host is approved on a
second and applied on a third. The CLI reads and writes plans as files: a plan is copied into the store when the
preview is saved and written back into this host's private plans folder before an apply; the apply still checks
the file's digest against the one the approvals bind."""

from __future__ import annotations

import hashlib
from pathlib import Path

from engine.errors import PreviewNotFound
from engine.pgstore.database import Database
from engine.previews import PreviewRecord, check_preview_id, not_found, parse_preview
from engine.store_files import ensure_dir, read_regular, write_atomic


class PgPreviewStore:
    def __init__(self, db: Database, plans: Path) -> None:
        self.db = db
        self.plans = plans

    def plan_path(self, preview_id: str) -> Path:
        """Where this host's CLI saves a plan: a folder only the engine's user can enter."""
        return ensure_dir(self.plans, 0o700) / f"{check_preview_id(preview_id)}.plan.json"

    def save(self, record: PreviewRecord) -> None:
        """Store the record with its plan's bytes; a preview id is never stored twice."""
        plan = read_regular(self.plans / record.plan_file) if record.plan_file else None
        self.db.execute(
            "INSERT INTO previews (preview_id, stack, created_epoch, data, plan) VALUES (%s, %s, %s, %s, %s)",
            record.preview_id,
            record.stack,
            record.created_epoch,
            record.model_dump_json(),
            plan,
        )

    def recent(self, limit: int = 100) -> list[PreviewRecord]:
        rows = self.db.all("SELECT preview_id, data FROM previews ORDER BY created_epoch DESC LIMIT %s", limit)
        found = []
        for preview_id, data in rows:
            try:
                found.append(parse_preview(preview_id, data))
            except PreviewNotFound:  # an unreadable row is skipped, as an unreadable file is
                continue
        return found

    def get(self, preview_id: str) -> PreviewRecord:
        row = self.db.one("SELECT data FROM previews WHERE preview_id = %s", check_preview_id(preview_id))
        if row is None:
            raise not_found(preview_id)
        return parse_preview(preview_id, row[0])

    def plan_for(self, record: PreviewRecord) -> Path | None:
        """The plan from the store, written to this host's plans folder (the apply checks its digest)."""
        if not record.plan_file:
            return None
        path = self.plan_path(record.preview_id)
        row = self.db.one("SELECT plan FROM previews WHERE preview_id = %s", record.preview_id)
        plan = bytes(row[0]) if row and row[0] is not None else None
        if plan is None:
            path.unlink(missing_ok=True)
            return path
        if not path.exists() or hashlib.sha256(read_regular(path)).digest() != hashlib.sha256(plan).digest():
            write_atomic(path, plan, mode=0o600)
        return path
