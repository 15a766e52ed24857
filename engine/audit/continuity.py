"""Whether the store still holds the chain its anchor vouches for: the anchored record as it was signed (checked
before every append), and a run of records up to it linked without a break (checked where an apply reads them)."""

from __future__ import annotations

from engine.audit import GENESIS, OperationRecord, verify_chain
from engine.audit.checkpoints import Checkpoint

REINIT = "Every operation refuses until an admin runs `datamcp ops reinit --reason TEXT`, which records the restart."


def anchor_problem(anchored: Checkpoint, held: int, at: OperationRecord | None, location: str) -> str | None:
    """Why a store holding `held` records, `at` the one in the anchor's place, is not the chain the anchor at
    `location` vouches for (None: it is). Records rewritten and rechained to the same length or longer change the
    anchored record's hash, since every hash covers the one before it."""
    if held < anchored.seq:
        return (
            f"the audit store holds {held} record(s) but its anchor ({location}) vouches for {anchored.seq}: it was "
            f"emptied, truncated or replaced. {REINIT}"
        )
    if anchored.seq and not is_anchored(at, anchored):
        return (
            f"audit record {anchored.seq} is not the one its anchor ({location}) vouches for: the records were "
            f"rewritten. {REINIT}"
        )
    return None


def is_anchored(record: OperationRecord | None, anchored: Checkpoint) -> bool:
    """The record is the one the anchor signed: its place, its hash, and content that still gives that hash."""
    return (
        record is not None
        and record.seq == anchored.seq
        and record.hash == anchored.hash
        and record.digest() == record.hash
    )


def segment_problem(records: list[OperationRecord], first: int, anchored: Checkpoint) -> str | None:
    """Why `records` are not the chain from record `first` up to the anchored one (None: they are, so none of them
    can have been edited, removed or rechained since the anchor was signed)."""
    prev = records[0].prev_hash if records else GENESIS
    problems = verify_chain(records, first=first, prev=prev).problems
    if problems:
        return problems[0]
    if len(records) != anchored.seq - first + 1 or not is_anchored(records[-1], anchored):
        return f"records {first} to {anchored.seq} do not end in the record the anchor vouches for"
    return None
