"""How results look to the calling model: bounded lists and a summary a person can read."""

from __future__ import annotations

from typing import Any

from engine.doctor import DoctorReport
from engine.results import ApplyResult, PreviewResult, SynthResult
from engine.vocabulary import RISKY_OPS, ChangeOp, urn_name

MAX_CHANGES = 100  # changes listed in one result; `changes_total` says how many there are
RISKY_NAMED = 10  # deleted or replaced resources named in a preview's summary
SYNTH_FIELDS = {"urn", "type", "name", "parent", "custom", "protect"}  # a synth page's fields without inputs


def preview_summary(preview: PreviewResult) -> str:
    """One paragraph to show the person: what changes, what is deleted or replaced, and what to do next."""
    counts = ", ".join(f"{n} to {op}" for op, n in sorted(preview.change_summary.items()) if op != ChangeOp.SAME and n)
    risky = [urn_name(c.urn) for c in preview.changes if c.op in RISKY_OPS]
    return (
        f"Preview {preview.preview_id} of {preview.stack}: {counts or 'no changes'}."
        + (f" It deletes or replaces {len(risky)} resource(s): {', '.join(risky[:RISKY_NAMED])}." if risky else "")
        + (f" {len(preview.diagnostics)} diagnostic(s)." if preview.diagnostics else "")
        + (" To apply it, call request_apply and ask a person to approve." if preview.has_changes else "")
    )


def bounded_preview(preview: PreviewResult) -> dict[str, Any]:
    data = preview.model_dump()
    data["changes_total"] = len(data["changes"])
    data["changes"] = data["changes"][:MAX_CHANGES]
    data["summary"] = preview_summary(preview)
    return data


def bounded_apply(result: ApplyResult) -> dict[str, Any]:
    data = result.model_dump()
    data["changes"] = data["changes"][:MAX_CHANGES]
    return data


def synth_page(result: SynthResult, offset: int, limit: int, include_inputs: bool) -> dict[str, Any]:
    """Counts and outputs of the whole graph, and one page of its resources."""
    page = result.resources[offset : offset + limit]
    fields = None if include_inputs else SYNTH_FIELDS
    return {
        "stack": result.stack,
        "resource_count": result.resource_count,
        "custom_resource_count": result.custom_resource_count,
        "counts_by_type": result.counts_by_type,
        "outputs": result.outputs,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < len(result.resources) else None,
        "resources": [r.model_dump(include=fields) for r in page],
    }


def toolchain_report(report: DoctorReport) -> dict[str, Any]:
    return {"ok": report.ok, "checks": [c.model_dump() for c in report.checks]}
