"""Facts for the apply-requirement tests: one preview and its approvals as the engine would hold them."""

from __future__ import annotations

from typing import Any

from engine.approvals import Approval, Method
from engine.operations.requirements import StateFacts
from engine.policy.report import PolicyReport
from engine.previews import Digests, PreviewRecord
from engine.vocabulary import Kind

NOW = 1_800_000_000
DIGESTS = Digests(program="p" * 64, config="c" * 64, state="s" * 64, policy="o" * 64)
CLEAN = PolicyReport(input_schema_version=1, pack_digest="o" * 64)
STATE = StateFacts(digests=DIGESTS, pending=(), plan_sha256="a" * 64)


def preview(**changes: Any) -> PreviewRecord:
    base = PreviewRecord(
        preview_id="prev-0001",
        kind=Kind.UPDATE,
        stack="aws-dev",
        user="alice",
        created_at="2027-01-15T08:00:00+00:00",
        created_epoch=NOW - 60,
        expires_epoch=NOW + 3600,
        operation_id="op-00001",
        digests=DIGESTS,
        plan_file="prev-0001.plan.json",
        plan_sha256="a" * 64,
        policy=CLEAN,
    )
    return base.model_copy(update=changes)


def approval(p: PreviewRecord, approver: str = "bob", **changes: Any) -> Approval:
    base = Approval(
        approval_id=f"appr-{approver}",
        preview_id=p.preview_id,
        kind=p.kind,
        stack=p.stack,
        binding=p.binding(),
        approver=approver,
        requested_by=p.user,
        expires_epoch=NOW + 600,
        method=Method.SSH,
    )
    return base.model_copy(update=changes)
