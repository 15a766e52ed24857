"""The audit trail as the engine uses it: a store plus signed checkpoints, an anchor outside the database, a spool
for records the store could not take, and the one full verification (`datamcp ops verify`)."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from pydantic import BaseModel, Field

from engine.audit import AuditStore, OperationRecord, Page, VerifyReport, now, verify_chain
from engine.audit.anchor import Anchor
from engine.audit.checkpoints import Checkpoint, Notary
from engine.audit.continuity import anchor_problem, segment_problem
from engine.audit.spool import Spool
from engine.errors import AuditUnavailable
from engine.vocabulary import Status

log = logging.getLogger(__name__)
CHECKPOINT_EVERY = 50  # records; every operation's final record is checkpointed as well
RESTART_TOOL = "audit-reinit"


class AnchorStatus(BaseModel):
    location: str
    seq: int | None = None
    status: str = Field(description="match, absent, mismatch, or behind (records missing from the store)")


class TrailReport(VerifyReport):
    """Records, checkpoints, signatures and the anchor in one view."""

    checkpoints: int = 0
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
    def verify(self) -> TrailReport:
        records = self.store.records()
        chain = verify_chain(records)
        problems = list(chain.problems)
        latest = {r.id: r for r in records}
        problems += self.store.index_problems(latest)
        problems += self._attachment_problems(records)
        checkpoints = self.store.checkpoints()
        problems += self._checkpoint_problems(checkpoints, records)
        anchor = self._anchor_status(records, problems)
        last = checkpoints[-1].seq if checkpoints else None
        unsigned = [r for r in records if last is None or r.seq > last]
        problems += [
            f"record {r.seq} ({r.tool} {r.status}) is after the last signed checkpoint"
            for r in unsigned
            if r.status != Status.STARTED
        ]
        return TrailReport(
            ok=not problems,
            records=len(records),
            problems=problems,
            checkpoints=len(checkpoints),
            last_checkpoint=last,
            unsigned_records=len(unsigned),
            anchor=anchor,
        )

    def _attachment_problems(self, records: list[OperationRecord]) -> list[str]:
        problems = []
        for r in records:
            if r.attachment_sha256 is not None:
                text = self.store.attachment(r.id)
                if text is None or sha256(text) != r.attachment_sha256:
                    problems.append(f"record {r.seq} ({r.id}): its attachment is missing or was edited")
        return problems

    def _checkpoint_problems(self, checkpoints: list[Checkpoint], records: list[OperationRecord]) -> list[str]:
        by_seq = {r.seq: r for r in records}
        problems = []
        for cp in checkpoints:
            problem = self.notary.problem(cp)
            if problem is None and cp.seq and (cp.seq not in by_seq or by_seq[cp.seq].hash != cp.hash):
                problem = f"checkpoint at record {cp.seq}: the chain there no longer ends in the signed hash"
            if problem:
                problems.append(problem)
        return problems

    def _anchor_status(self, records: list[OperationRecord], problems: list[str]) -> AnchorStatus:
        anchored = self.anchor.read()
        if anchored is None:
            return AnchorStatus(location=self.anchor.location, status="absent")
        status = AnchorStatus(location=self.anchor.location, seq=anchored.seq, status="match")
        if self.notary.problem(anchored) is not None:
            problems.append("the anchor's checkpoint signature does not verify")
            return status.model_copy(update={"status": "mismatch"})
        if len(records) < anchored.seq:
            problems.append(f"the anchor vouches for {anchored.seq} records; the store has {len(records)} (truncated)")
            return status.model_copy(update={"status": "behind"})
        at = next((r for r in records if r.seq == anchored.seq), None)
        if anchored.seq and (at is None or at.hash != anchored.hash):
            problems.append(f"record {anchored.seq} is not the one the anchor vouches for (rewritten)")
            return status.model_copy(update={"status": "mismatch"})
        return status
