"""How results look to the calling model: bounded lists and a summary a person can read."""

from __future__ import annotations

import json
from typing import Any

from engine.audit import OperationRecord
from engine.doctor import DoctorReport
from engine.results import ApplyResult, PreviewResult, SynthResult
from engine.vocabulary import RISKY_OPS, ChangeOp, urn_name

MAX_CHANGES = 100  # changes listed in one result; `changes_total` says how many there are
RESULT_LIMIT = 16_000  # bytes of JSON in any default tool result: what an agent can take in at once
OUTPUT_TAIL = 3_000  # characters of an operation's stdout/stderr in get_operation unless asked for more
REFS_PAGE = 100  # resource URNs of an operation per page
POLICY_LIMIT = 6_000  # bytes of the policy findings within a preview result
LIST_LIMIT = 1_500  # bytes of each other list (diagnostics, waivers, ...) within a preview result
RISKY_NAMED = 10  # deleted or replaced resources named in a preview's summary
SYNTH_FIELDS = {"urn", "type", "name", "parent", "custom", "protect"}  # a synth page's fields without inputs


def preview_summary(preview: PreviewResult, can_request: bool = True) -> str:
    """One paragraph to show the person: what changes, what is deleted or replaced, and what to do next (naming
    only tools the caller has)."""
    next_step = (
        " To apply it, call request_apply and ask a person to approve."
        if can_request
        else " Applying it needs an approval requested by an operator and given by a person."
    )
    counts = ", ".join(f"{n} to {op}" for op, n in sorted(preview.change_summary.items()) if op != ChangeOp.SAME and n)
    risky = [urn_name(c.urn) for c in preview.changes if c.op in RISKY_OPS]
    denied = preview.policy is not None and bool(preview.policy.denied)
    return (
        f"Preview {preview.preview_id} of {preview.stack}: {counts or 'no changes'}."
        + (f" It deletes or replaces {len(risky)} resource(s): {', '.join(risky[:RISKY_NAMED])}." if risky else "")
        + (f" {len(preview.diagnostics)} diagnostic(s)." if preview.diagnostics else "")
        + policy_sentence(preview)
        + (next_step if preview.has_changes and not denied else "")
    )


def policy_sentence(preview: PreviewResult) -> str:
    """What the policy pack decided, so the agent can fix a denial and preview again, or tell the person who must
    approve."""
    report = preview.policy
    if report is None:
        return " The policy pack did not judge it."
    if report.denied:
        ids = ", ".join(sorted({r.id for r in report.denied}))
        return (
            f" The policy pack DENIES it ({ids}): nobody can approve it; fix what each finding's remediation says "
            "and preview again."
        )
    needs = "; ".join(f"{q.approvals} approval(s) by people with the {q.role} role" for q in report.requirements())
    warns = report.counts()["warn"]
    return (f" Policy requires {needs}." if needs else "") + (f" {warns} policy warning(s)." if warns else "")


def size(data: Any) -> int:
    return len(json.dumps(data, default=str))


def fit(data: dict[str, Any], key: str, limit: int = RESULT_LIMIT, most: int = MAX_CHANGES) -> dict[str, Any]:
    """Keep as many items of the list `data[key]` as fit in `limit` bytes; say how many there are in total."""
    items = data[key]
    data[f"{key}_total"] = len(items)
    kept = longest_prefix(data, key, items[:most], limit)
    data[key] = items[:kept]
    data[f"{key}_truncated"] = kept < len(items)
    return data


def fit_part(data: dict[str, Any], key: str, limit: int) -> dict[str, Any]:
    """Cut the list `data[key]` on its own to `limit` bytes, whatever else `data` holds."""
    data.update(fit({key: data[key]}, key, limit))
    return data


def longest_prefix(data: dict[str, Any], key: str, items: list[Any], limit: int) -> int:
    """How many of `items`, from the first, fit as `data[key]` in `limit` bytes."""
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size({**data, key: items[:mid]}) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def bounded_preview(preview: PreviewResult, can_request: bool = True) -> dict[str, Any]:
    """The preview as one answer: every list cut to its share of RESULT_LIMIT, the changes to what is left
    (get_preview pages through all of them)."""
    data = preview.model_dump()
    data["summary"] = preview_summary(preview, can_request)
    for key in ("diagnostics", "policy_violations", "pending_operations"):
        fit_part(data, key, LIST_LIMIT)
    if data["policy"] is not None:  # denies and requires come first, so they are the last to be cut
        data["policy"] = fit(fit_part(data["policy"], "waived", LIST_LIMIT), "results", POLICY_LIMIT)
    return fit(data, "changes")


def bounded_apply(result: ApplyResult) -> dict[str, Any]:
    return fit(result.model_dump(), "changes")


def operation_item(record: OperationRecord) -> dict[str, Any]:
    """An operation in a list: counts instead of its output and the resources it touched."""
    item = record.model_dump(exclude={"stdout", "stderr", "resource_refs"})
    item["resource_count"] = len(record.resource_refs)
    return item


def operation_detail(record: OperationRecord, refs_offset: int, full_output: bool) -> dict[str, Any]:
    """One operation: the tail of its output (all of it on request) and one page of the resources it touched."""
    data = record.model_dump(exclude={"resource_refs"})
    if not full_output:
        for stream in ("stdout", "stderr"):
            text = data[stream]
            data[stream] = text[-OUTPUT_TAIL:] if len(text) > OUTPUT_TAIL else text
            data[f"{stream}_cut"] = len(text) > OUTPUT_TAIL
    refs = record.resource_refs
    data["resource_refs"] = refs[refs_offset : refs_offset + REFS_PAGE]
    data["resource_count"] = len(refs)
    data["next_refs_offset"] = refs_offset + REFS_PAGE if refs_offset + REFS_PAGE < len(refs) else None
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
