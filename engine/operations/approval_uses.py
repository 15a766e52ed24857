"""Which approvals the audit trail shows an earlier apply using: the second witness of single use, beside the
approvals store's own record, so an approval does not become new again when that record is deleted."""

from __future__ import annotations

from collections.abc import Iterable

from engine.audit import OperationRecord
from engine.audit.trail import AuditTrail
from engine.previews import PreviewRecord
from engine.vocabulary import Kind

APPLY_TOOLS = frozenset(kind.apply_tool.value for kind in Kind)


def used_on_record(audit: AuditTrail, preview: PreviewRecord, approval_ids: Iterable[str]) -> dict[str, str]:
    """{approval id: the operation that used it} for those of `approval_ids` an apply used. Only the records since
    the preview started are read (none of its approvals can be older), and only as far as the anchor vouches for
    them: records edited or removed since are refused (AuditUnavailable), not believed."""
    wanted = set(approval_ids)
    used: dict[str, str] = {}
    for record in audit.anchored_records(preview.audit_seq):
        if consumed_approvals(record):
            for approval_id in wanted.intersection(named_approvals(record)):
                used.setdefault(approval_id, record.id)
    return used


def consumed_approvals(record: OperationRecord) -> bool:
    """An apply's record written after it used its approvals: the apply names its approvers right after using
    them, before its CLI runs (engine/operations/apply.py), whatever the outcome is."""
    return record.tool in APPLY_TOOLS and "approvers" in record.summary


def named_approvals(record: OperationRecord) -> set[str]:
    ids = record.params.get("approval_ids")
    return {i for i in ids if isinstance(i, str)} if isinstance(ids, list) else set()
