"""What the audit trail shows happened after a preview started: the second witness of single use (which approvals
an apply used, beside the approvals store's own record, so an approval does not become new again when that record
is deleted), and whether anything wrote the stack's state since (so a state put back as it was, a restored
checkpoint, does not make an old preview current again)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from engine.audit import OperationRecord
from engine.audit.trail import AuditTrail
from engine.previews import PreviewRecord
from engine.vocabulary import Kind, Status, Tool

APPLY_TOOLS = frozenset(kind.apply_tool.value for kind in Kind)


@dataclass(frozen=True)
class OnRecord:
    used: dict[str, str] = field(default_factory=dict)  # approval id -> the apply that used it
    changed_by: OperationRecord | None = None  # the first operation that wrote the stack's state since the preview


def since_preview(
    audit: AuditTrail, preview: PreviewRecord, approval_ids: Iterable[str], own_operation: str
) -> OnRecord:
    """Which of `approval_ids` an apply used, and the first operation but `own_operation` that wrote the preview's
    stack. Only the records since the preview started are read (none of its approvals can be older; a write before
    it is in its state), and only as far as the anchor vouches for them: records edited or removed since are refused
    (AuditUnavailable), not believed."""
    wanted = set(approval_ids)
    used: dict[str, str] = {}
    changed_by = None
    for record in audit.anchored_records(preview.audit_seq):
        if consumed_approvals(record):
            for approval_id in wanted.intersection(named_approvals(record)):
                used.setdefault(approval_id, record.id)
        if changed_by is None and record.id != own_operation and wrote_state(record, preview.stack):
            changed_by = record
    return OnRecord(used, changed_by)


def written_since(audit: AuditTrail, preview: PreviewRecord) -> OperationRecord | None:
    """The first operation the trail shows writing the preview's stack since the preview started (None: none):
    such a preview can no longer be applied, so nobody is asked to approve it."""
    return since_preview(audit, preview, (), own_operation="").changed_by


def consumed_approvals(record: OperationRecord) -> bool:
    """An apply's record written after it used its approvals: the apply names its approvers right after using
    them, before its CLI runs (engine/operations/apply.py), whatever the outcome is."""
    return record.tool in APPLY_TOOLS and "approvers" in record.summary


def wrote_state(record: OperationRecord, stack: str) -> bool:
    """The final record of an operation on `stack` that may have written its state: an apply that got as far as
    using its approvals (whatever its outcome: a refusal after that may come after its CLI ran), an interrupted one
    (its process died: the record is its `started` one marked, which cannot say how far it got), or a refresh that
    was not refused (a failed one may have written part of it)."""
    if record.stack != stack or record.status == Status.STARTED:
        return False
    if record.tool in APPLY_TOOLS:
        return consumed_approvals(record) or record.status == Status.INTERRUPTED
    return record.tool == Tool.REFRESH and record.status != Status.REFUSED


def named_approvals(record: OperationRecord) -> set[str]:
    ids = record.params.get("approval_ids")
    return {i for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()
