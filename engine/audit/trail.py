"""The audit trail as the engine uses it: a store plus signed checkpoints, an anchor outside the database, a spool
for records the store could not take, and the verification (`datamcp ops verify [--full]`)."""

from __future__ import annotations

import hashlib
import logging
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from engine.audit import GENESIS, AuditStore, OperationRecord, Page, VerifyReport, now
from engine.audit.anchor import Anchor
from engine.audit.checkpoints import CheckedCheckpoint, Checkpoint, Notary, VerifiedMark
from engine.audit.continuity import anchor_problem, segment_problem
from engine.audit.spool import Spool
from engine.audit.walk import ChainWalk, stored_record
from engine.errors import AuditUnavailable
from engine.vocabulary import Status

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 50  # records; every operation's final record is checkpointed as well
RESTART_TOOL = "audit-reinit"


class AnchorStatus(BaseModel):
    location: str
    seq: int | None = None
    status: str = Field(description="match, absent, mismatch, or behind (records missing from the store)")


class VerifyScope(StrEnum):
    FULL = "full"  # every record, checkpoint, index row and attachment
    INCREMENTAL = "incremental"  # what came after the last full verify's mark


class TrailReport(VerifyReport):
    """Records, checkpoints, signatures and the anchor in one view."""

    scope: VerifyScope = VerifyScope.FULL
    checked_from: int = Field(
        1,
        description="The first record this verify read and hashed. The ones before it were found intact by the full "
        "verify of `full_verified_at` and are trusted as of then (an edit to them shows in the next full verify).",
    )
    records_checked: int = Field(0, description="Records read and hashed by this verify.")
    full_verified_at: str | None = Field(None, description="When the full verify this incremental one builds on ran.")
    scope_note: str = Field("", description="Why this verify is a full one although an incremental one was asked for.")
    checkpoints: int = Field(0, description="Checkpoints checked (signature, and the chain's hash at their record).")
    last_checkpoint: int | None = None
    unsigned_records: int = Field(0, description="Records after the last checkpoint (a running operation's start).")
    anchor: AnchorStatus


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class AuditTrail:
    """Reads pass through to the store; appends are checkpointed, anchored and spooled when the store fails."""

    def __init__(self, store: AuditStore, notary: Notary, anchor: Anchor, spool: Spool) -> None:
        self.store, self.notary, self.anchor, self.spool = store, notary, anchor, spool

    # --- reads --------------------------------------------------------------------------------------------------
    def get(self, operation_id: str) -> OperationRecord | None:
        return self.store.get(operation_id)

    def query(self, **filters: Any) -> Page:
        return self.store.query(**filters)

    def attachment(self, operation_id: str) -> str | None:
        return self.store.attachment(operation_id)

    def running(self) -> list[OperationRecord]:
        return self.store.running()

    # --- writes -------------------------------------------------------------------------------------------------
    def append(self, record: OperationRecord, attachment: str | None = None) -> OperationRecord:
        """Write a record (what waits in the spool first); final records are checkpointed and anchored. Nothing is
        written onto, or signed over, a chain the anchor does not vouch for (AuditUnavailable)."""
        self.check_continuity()
        self.drain()
        if attachment is not None:
            record = record.model_copy(update={"attachment_sha256": sha256(attachment)})
        stored = self.store.append(record, attachment)
        if stored.status != Status.STARTED or stored.seq % CHECKPOINT_EVERY == 0:
            self.checkpoint()
        return stored

    def append_or_spool(self, record: OperationRecord, attachment: str | None = None) -> str | None:
        """Write a final record; when the store cannot take it, keep it in the spool and say why (None: written)."""
        try:
            self.append(record, attachment)
            return None
        except AuditUnavailable as exc:
            try:
                where = self.spool.put(record, attachment, exc.message)
            except OSError as spool_error:
                return f"{exc.message}; it could not be spooled either ({spool_error.strerror})"
            return f"{exc.message}; the record waits in {where.parent} and is written when the store is back"

    def drain(self) -> int:
        """Write the spooled records, oldest first; stop at the first one the store still refuses."""
        written = 0
        for path, spooled in self.spool.pending():
            text = spooled.attachment
            record = spooled.record.model_copy(update={"attachment_sha256": sha256(text) if text else None})
            self.store.append(record, text)
            path.unlink(missing_ok=True)
            written += 1
        if written:
            self.checkpoint()
        return written

    def checkpoint(self, note: str = "", *, restart: bool = False) -> Checkpoint:
        seq, head = self.store.head()
        signed = self.notary.sign(Checkpoint(seq=seq, hash=head, signed_at=now(), key_id="", note=note))
        self.store.put_checkpoint(signed)
        self.anchor.write(signed, restart=restart)
        return signed

    # --- continuity ---------------------------------------------------------------------------------------------
    def check_continuity(self) -> None:
        """Refuse to go on when the store no longer holds the chain the anchor vouches for: records the anchor
        counts are gone (emptied, truncated, replaced) or the anchored record was rewritten."""
        problem = self.continuity_problem()
        if problem is not None:
            raise AuditUnavailable(problem)

    def continuity_problem(self) -> str | None:
        """Why the store is not the anchored chain (None: it is, or nothing is anchored yet). One anchor read, the
        head, and one primary-key read of the anchored record."""
        anchored = self.anchor.read()
        if anchored is None:
            return None
        held, _ = self.store.head()
        at = self.store.records(anchored.seq, anchored.seq) if 0 < anchored.seq <= held else []
        return anchor_problem(anchored, held, at[0] if at else None, self.anchor.location)

    def anchored_records(self, first: int) -> list[OperationRecord]:
        """The records from `first` up to the anchored one, proven unchanged since the anchor was signed (each links
        to the one before, the last is the anchor's); AuditUnavailable when they are not."""
        anchored, first = self.anchor.read(), max(first, 1)
        if anchored is None or anchored.seq < first:
            return []
        records = self.store.records(first, anchored.seq)
        problem = segment_problem(records, first, anchored)
        if problem is not None:
            raise AuditUnavailable(
                f"the audit records since {first} no longer chain up to the anchored record ({problem}): they were "
                "edited or removed; `datamcp ops verify` shows where"
            )
        return records

    def reinit(self, reason: str, admin: str) -> Checkpoint:
        """Start the chain again after a loss, on record: the restart names the lost anchor, the admin and why."""
        lost = self.anchor.read()
        self.anchor.write_mark(None)  # the chain is restarted on record: the next verify is a full one
        record = OperationRecord(
            id=f"reinit-{now()}",
            user=admin,
            tool=RESTART_TOOL,
            status=Status.SUCCEEDED,
            start_ts=now(),
            end_ts=now(),
            params={"reason": reason},
            summary={"lost_anchor": lost.model_dump() if lost else None},
        )
        self.store.append(record)
        return self.checkpoint(f"chain restart by {admin}: {reason}", restart=True)

    # --- verification -------------------------------------------------------------------------------------------
    def verify(self, *, full: bool = False) -> TrailReport:
        """Check the chain (every record's hash and link), the checkpoints' signatures and hashes, the query index,
        the attachments and the anchor, reading the records as they stream by. By default only what came after the
        last full verify's mark (incremental); `full`, or no usable mark, checks everything and then leaves a new mark
        when all is intact, or withdraws it when not."""
        problems: list[str] = []
        mark, note = (None, "") if full else self._start(problems)
        report, last = self._verify(mark, problems)
        if mark is None:
            report.scope_note = note
            self._leave_mark(report, last)
        return report

    def _start(self, problems: list[str]) -> tuple[VerifiedMark | None, str]:
        """The last full verify's mark if an incremental verify can start there: signed by this server's key, and the
        record at its place still the one it vouches for (place, hash, and content that gives that hash). Otherwise
        None and why."""
        mark = self.anchor.read_mark()
        if mark is None:
            return None, "no earlier full verify on record"
        problem = self.notary.mark_problem(mark)
        if problem is not None:
            if mark.key_id == self.notary.key_id:
                problems.append(problem)  # someone wrote it without the key
            return None, problem
        rows = list(self.store.rows(mark.seq, mark.seq))
        at = stored_record(*rows[0]) if rows else None
        if at is None or at.seq != mark.seq or at.hash != mark.hash or at.digest() != at.hash:
            return None, f"record {mark.seq} is no longer the one the last full verify found"
        return mark, ""

    def _verify(self, mark: VerifiedMark | None, problems: list[str]) -> tuple[TrailReport, CheckedCheckpoint | None]:
        """Verify from the mark (everything when None); the report and the last checkpoint read."""
        trusted = mark.seq if mark else 0
        anchored = self.anchor.read()
        checked = [self.notary.check(seq, data) for seq, data in self.store.checkpoint_rows(trusted)]
        last = checked[-1].seq if checked else None
        walker = ChainWalk(
            first=trusted + 1,
            prev=mark.hash if mark else GENESIS,
            watch={c.seq for c in checked if c.problem is None},
            signed_to=last if last is not None or mark is None else trusted,
            anchor_seq=anchored.seq if anchored and anchored.seq > trusted else None,
        )
        walker.feed(self.store.rows(trusted + 1))
        if mark:
            walker.hashes.setdefault(mark.seq, mark.hash)  # the record there was checked against the mark
        problems += walker.problems
        problems += self.store.index_problems(walker.latest, after=trusted)
        problems += self._attachment_problems(walker.attachments)
        problems += [
            c.problem or f"checkpoint at record {c.seq}: the chain there no longer ends in the signed hash"
            for c in checked
            if c.problem is not None or (c.seq and c.seq >= trusted and walker.hashes.get(c.seq) != c.hash)
        ]
        held = trusted + walker.count
        anchor = self._anchor_status(anchored, held, walker.anchored if anchored else None, mark, problems)
        problems += walker.unsigned_problems
        report = TrailReport(
            ok=not problems,
            records=held,
            problems=problems,
            scope=VerifyScope.INCREMENTAL if mark else VerifyScope.FULL,
            checked_from=trusted + 1,
            records_checked=walker.count,
            full_verified_at=mark.verified_at if mark else None,
            checkpoints=len(checked),
            last_checkpoint=last,
            unsigned_records=walker.unsigned,
            anchor=anchor,
        )
        return report, checked[-1] if checked else None

    def _leave_mark(self, report: TrailReport, last: CheckedCheckpoint | None) -> None:
        """After a full verify: incremental verifies start at its last checkpoint when everything was intact, and
        nowhere (so they run in full, and keep reporting) when it was not."""
        mark = None
        if report.ok and last is not None:
            mark = self.notary.sign_mark(VerifiedMark(seq=last.seq, hash=last.hash, verified_at=now(), key_id=""))
        try:
            self.anchor.write_mark(mark)
        except AuditUnavailable as exc:
            log.warning("the full verify's mark was not %s: %s", "left" if mark else "withdrawn", exc.message)

    def _attachment_problems(self, attachments: list[tuple[int, str, str]]) -> list[str]:
        problems = []
        for seq, op_id, digest in attachments:
            text = self.store.attachment(op_id)
            if text is None or sha256(text) != digest:
                problems.append(f"record {seq} ({op_id}): its attachment is missing or was edited")
        return problems

    def _anchor_status(
        self,
        anchored: Checkpoint | None,
        held: int,
        walked: str | None,
        mark: VerifiedMark | None,
        problems: list[str],
    ) -> AnchorStatus:
        """The anchor against a store of `held` records whose record at the anchor's place has the hash `walked`
        (when the walk reached it; before an incremental walk, it is read on its own)."""
        if anchored is None:
            return AnchorStatus(location=self.anchor.location, status="absent")
        status = AnchorStatus(location=self.anchor.location, seq=anchored.seq, status="match")
        if self.notary.problem(anchored) is not None:
            problems.append("the anchor's checkpoint signature does not verify")
            return status.model_copy(update={"status": "mismatch"})
        if held < anchored.seq:
            problems.append(f"the anchor vouches for {anchored.seq} records; the store has {held} (truncated)")
            return status.model_copy(update={"status": "behind"})
        at = walked
        if mark is not None and anchored.seq == mark.seq:
            at = mark.hash
        elif mark is not None and anchored.seq < mark.seq:  # an anchor behind the mark: its record read on its own
            rows = list(self.store.rows(anchored.seq, anchored.seq))
            at = stored_record(*rows[0]).hash if rows else None
        if anchored.seq and at != anchored.hash:
            problems.append(f"record {anchored.seq} is not the one the anchor vouches for (rewritten)")
            return status.model_copy(update={"status": "mismatch"})
        return status
