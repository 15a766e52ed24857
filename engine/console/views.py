"""What each console page shows, assembled from the engine (no HTTP here): pending previews with their risk, one
preview as an approval binds it, the stacks, the audit trail."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.errors import DataMcpError
from engine.operations import Engine
from engine.operations.approval_flow import approvals_needed, written_on_record
from engine.operations.provenance import vouched_for
from engine.previews import PreviewRecord
from engine.results import PreviewResult
from engine.vocabulary import RISKY_OPS, ChangeOp, urn_name

STATEFUL = (
    "s3/bucket:",
    "storage/bucket:",
    "dynamodb/table:",
    "eks/cluster:",
    "container/cluster:",
    "nodeGroup:",
    "nodePool:",
    "kms/key:",
    "kms/keyRing:",
    "kms/cryptoKey:",
)


@dataclass
class PendingRow:
    preview_id: str
    stack: str
    kind: str
    requester: str
    age_minutes: int
    expires_in_minutes: int
    counts: dict[str, int]
    policy: str
    risks: list[str] = field(default_factory=list)


def risks(result: PreviewResult) -> list[str]:
    """Deletes and replacements of stateful resources, by name: what a person must not miss."""
    return [
        f"{c.op} {urn_name(c.urn)}"
        for c in result.changes
        if c.op in RISKY_OPS and any(kind in c.type for kind in STATEFUL)
    ]


def policy_status(result: PreviewResult) -> str:
    if result.policy is None:
        return "not evaluated"
    counts = result.policy.counts()
    if counts["deny"]:
        return f"denied ({counts['deny']})"
    parts = [f"{n} {d}" for d, n in counts.items() if n and d != "deny"]
    return ", ".join(parts) or "passed"


def pending(engine: Engine, now: float | None = None) -> list[PendingRow]:
    """Previews the audit trail recorded, not expired, not rejected, not yet applied, their stack not written since."""
    now = now if now is not None else time.time()
    rows = []
    for record in engine.previews.recent():
        if record.expires_epoch < now or not trusted(engine, record) or applied(engine, record):
            continue
        if engine.rejection(record.preview_id) is not None or written(engine, record):
            continue
        result = PreviewResult.model_validate(record.result)
        rows.append(
            PendingRow(
                preview_id=record.preview_id,
                stack=record.stack,
                kind=record.kind.value,
                requester=record.user,
                age_minutes=int((now - record.created_epoch) // 60),
                expires_in_minutes=int((record.expires_epoch - now) // 60),
                counts={op: n for op, n in record.change_summary.items() if op != ChangeOp.SAME and n},
                policy=policy_status(result),
                risks=risks(result),
            )
        )
    return rows


def trusted(engine: Engine, record: PreviewRecord) -> bool:
    """The engine made this record: its seal and its audit record (a file dropped in the store, or a row planted
    with an audit record of its own, is neither)."""
    return vouched_for(engine.parts, record)


def written(engine: Engine, record: PreviewRecord) -> bool:
    """The stack was written after the preview was made (an apply, a refresh): it can no longer be applied."""
    return written_on_record(engine.parts, record) is not None


def applied(engine: Engine, record: PreviewRecord) -> bool:
    return any(engine.approvals.used(a.approval_id) for a in engine.approvals.for_preview(record.preview_id))


def preview_view(engine: Engine, preview_id: str) -> dict[str, Any]:
    """Everything an approval of this preview binds, who approved it so far, and whether it can still be approved."""
    review = engine.review(preview_id)
    record = engine.previews.get(preview_id)
    return {
        "review": review,
        "trusted": trusted(engine, record),
        "expired": record.expires_epoch < time.time(),
        "applied": applied(engine, record),
        "rejection": engine.rejection(preview_id),
        "needed": approvals_needed(engine.parts, record),
        "risks": risks(review.preview),
    }


def stacks_view(engine: Engine) -> list[dict[str, Any]]:
    rows = []
    for info in engine.list_stacks():
        recent = engine.audit.query(stack=info.name, limit=50).items
        drift = next((r for r in recent if r.tool == "check-drift"), None)
        try:
            outputs: dict[str, Any] | str = engine.outputs(info.name)
        except DataMcpError as exc:
            outputs = exc.message
        rows.append({"info": info, "last": recent[0] if recent else None, "drift": drift, "outputs": outputs})
    return rows
