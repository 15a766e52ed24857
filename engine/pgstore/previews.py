"""Previews in the shared store: the record and its saved plan, so a preview made on one host is approved on a
second and applied on a third. The CLI reads and writes plans as files: a plan is copied into the store when the
preview is saved and written back into this host's private plans folder before an apply; the apply still checks
the file's digest against the one the approvals bind."""

from __future__ import annotations

from pathlib import Path

from engine.errors import PreviewNotFound
from engine.pgstore.database import Database
from engine.previews import PreviewRecord, check_preview_id, not_found, parse_preview
from engine.store_files import MAX_STORE_FILE, ensure_dir, read_regular, write_atomic


def plan_name(preview_id: str) -> str:
    """The one file a preview's plan is ever read from or written to, inside a plans folder."""
    return f"{check_preview_id(preview_id)}.plan.json"


class PgPreviewStore:
    def __init__(self, db: Database, plans: Path) -> None:
        self.db = db
        self.plans = plans

    def plan_path(self, preview_id: str) -> Path:
        """Where this host's CLI saves a plan: a folder only the engine's user can enter."""
        return ensure_dir(self.plans, 0o700) / plan_name(preview_id)

    def save(self, record: PreviewRecord) -> None:
        """Store the record with its plan's bytes; a preview id is never stored twice."""
        self.db.execute(
            "INSERT INTO previews (preview_id, stack, created_epoch, data, plan) VALUES (%s, %s, %s, %s, %s)",
            record.preview_id,
            record.stack,
            record.created_epoch,
            record.model_dump_json(),
            self._saved_plan(record),
        )

    def _saved_plan(self, record: PreviewRecord) -> bytes | None:
        """The preview's own plan file, if it names it and it is readable. A record naming another path (a preview
        planted in a checkout's world-writable previews folder, then imported) brings no file along: no key or
        other private file of the engine's user ever becomes a row."""
        if record.plan_file != plan_name(record.preview_id):
            return None
        return _read(self.plans / record.plan_file)

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
        """The plan from the store, written to this host's plans folder (the apply checks its digest). A plan
        missing from the store, or larger than a plan file may be, is missing here too (the apply refuses)."""
        if not record.plan_file:
            return None
        path = self.plan_path(record.preview_id)
        row = self.db.one(
            "SELECT plan FROM previews WHERE preview_id = %s AND octet_length(plan) <= %s",
            record.preview_id,
            MAX_STORE_FILE,
        )
        if row is None:
            path.unlink(missing_ok=True)
        elif _read(path) != bytes(row[0]):  # a link or FIFO is replaced, never followed
            write_atomic(path, bytes(row[0]), mode=0o600)
        return path


def _read(path: Path) -> bytes | None:
    """A regular file's bytes; None for anything else (missing, a link, a FIFO, too large)."""
    try:
        return read_regular(path)
    except OSError:
        return None
