"""A saved preview in answers an agent can take in: its changes filtered and in pages, one change with its property
diff, and its policy findings grouped by rule; each answer at most RESULT_LIMIT bytes."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from engine.errors import InvalidInput
from engine.mcpserver.presenting import LIST_LIMIT, RESULT_LIMIT, fit, fit_part, longest_prefix, preview_summary
from engine.policy.report import DECISIONS, PolicyReport, PolicyResult
from engine.previews import PreviewRecord
from engine.results import PreviewResult, PreviewReview, ResourceChange
from engine.vocabulary import ChangeOp, echo

KEYS_SHOWN = 10  # changed or replace keys named per change in a page (get_change has them all)
TYPES_SHOWN = 30  # resource types counted in a page's head, the most changed first
URNS_PER_RULE = 10  # resources named per policy rule
TEXT_SHOWN = 500  # characters of a policy finding's message or remediation
BRIEF_LIMIT = 2_500  # bytes of the policy decision within a page (the policy resource has the findings)
FINDINGS_LIMIT = 3_000  # bytes of the policy findings on the one resource of get_change
NOTE_RESERVE = 200  # bytes kept free in get_change for the note that says where it was cut
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@dataclass(frozen=True)
class ChangeFilter:
    """Which changes a page holds: all that match every filter given."""

    op: ChangeOp | None = None
    type: str | None = None
    urn_prefix: str | None = None

    def __call__(self, change: ResourceChange) -> bool:
        return (
            (self.op is None or change.op == self.op)
            and (self.type is None or change.type == self.type)
            and (self.urn_prefix is None or change.urn.startswith(self.urn_prefix))
        )


def preview_page(
    review: PreviewReview, where: ChangeFilter, offset: int, limit: int, can_request: bool
) -> dict[str, Any]:
    """The page of the preview's changes that match `where` from `offset`: at most `limit`, fewer when more would
    not fit; `next_offset` goes on where it ends. The first page also holds the preview's summary, counts,
    approvals, diagnostics and policy decision; later pages only the changes."""
    preview = review.preview
    matching = [c for c in preview.changes if where(c)]
    head: dict[str, Any] = {"preview_id": preview.preview_id, "stack": preview.stack}
    if offset == 0:
        head |= {
            "kind": preview.kind,
            "requester": review.requester,
            "expires_at": preview.expires_at,
            "summary": unrecorded(review) + preview_summary(preview, can_request),
            "recorded": review.recorded,
            "change_summary": preview.change_summary,
            "approvals_required": review.approvals_required,
            "approved_by": review.approved_by,
            **type_counts(preview.changes),
            "diagnostics": [d.model_dump() for d in preview.diagnostics],
            "policy": policy_brief(preview.policy),
        }
        fit_part(fit_part(head, "approved_by", LIST_LIMIT), "diagnostics", LIST_LIMIT)
    head |= {"total": len(matching), "offset": offset}
    return page(head, "changes", [change_item(c) for c in matching[offset : offset + limit]], len(matching))


def unrecorded(review: PreviewReview) -> str:
    """A warning first when the audit trail does not vouch for the saved preview (a file planted in the store)."""
    if review.recorded:
        return ""
    return "WARNING: no preview operation in the audit trail made this preview; do not ask anyone to approve it. "


def page(head: dict[str, Any], key: str, window: list[Any], total: int, limit: int = RESULT_LIMIT) -> dict[str, Any]:
    """`head` with as much of `window` (the items from head["offset"]) as fits in `limit` bytes. At least one item
    when there is one, so paging always ends."""
    kept = max(longest_prefix({**head, "next_offset": total}, key, window, limit), min(len(window), 1))
    end = head["offset"] + kept
    return {**head, key: window[:kept], "next_offset": end if end < total else None}


def change_item(change: ResourceChange) -> dict[str, Any]:
    """A change in a page: what it is and which keys it touches (get_change has its property diff)."""
    item: dict[str, Any] = {"urn": change.urn, "type": change.type, "op": change.op, "protect": change.protect}
    for key in ("replace_keys", "changed_keys"):
        keys = getattr(change, key)
        item[key] = keys[:KEYS_SHOWN]
        if len(keys) > KEYS_SHOWN:
            item[f"{key}_more"] = len(keys) - KEYS_SHOWN
    return item


def type_counts(changes: list[ResourceChange]) -> dict[str, Any]:
    """Changes per resource type, the most changed first: the values a `type` filter takes."""
    counts = Counter(c.type for c in changes).most_common()
    return {"counts_by_type": dict(counts[:TYPES_SHOWN]), "types_total": len(counts)}


def change_detail(record: PreviewRecord, urn: str, offset: int) -> dict[str, Any]:
    """One change of a preview: what happens to the resource and why, the policy's findings on it, and its property
    diff (old -> new, masked) from `offset`, as many properties as fit; `next_offset` goes on where it ends."""
    preview = PreviewResult.model_validate(record.result)
    change = next((c for c in preview.changes if c.urn == urn), None)
    if change is None:
        raise InvalidInput(
            f"preview {record.preview_id} changes no resource {echo(urn)}: get_preview lists the URNs it changes"
        )
    diffs = record.property_diffs.get(urn, {})
    properties = [{"path": path, **values} for path, values in diffs.items()]
    for prop in properties:
        if prop["path"] in change.detailed_diff:
            prop["kind"] = change.detailed_diff[prop["path"]]
    findings = [finding(r) for r in (record.policy.results if record.policy else []) if r.urn == urn]
    head: dict[str, Any] = {
        "preview_id": record.preview_id,
        "stack": record.stack,
        "urn": change.urn,
        "type": change.type,
        "op": change.op,
        "parent": change.parent,
        "protect": change.protect,
        "replace_keys": change.replace_keys,
        "policy_findings": findings,
        "properties_total": len(properties),
        "offset": offset,
    }
    fit_part(fit_part(head, "replace_keys", LIST_LIMIT), "policy_findings", FINDINGS_LIMIT)
    answer = page(head, "properties", properties[offset:], len(properties), RESULT_LIMIT - NOTE_RESERVE)
    if answer["next_offset"] is not None or offset:
        shown = len(answer["properties"])
        answer["cut"] = f"properties {offset + 1}-{offset + shown} of {len(properties)} shown" + (
            f"; call get_change with offset={answer['next_offset']} for more" if answer["next_offset"] else ""
        )
    return answer


def finding(result: PolicyResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "decision": result.decision,
        "severity": result.severity,
        "message": short(result.message),
        "remediation": short(result.remediation),
    }


def short(text: str) -> str:
    return text if len(text) <= TEXT_SHOWN else text[: TEXT_SHOWN - 3] + "..."


def policy_brief(report: PolicyReport | None) -> dict[str, Any]:
    """What the policy pack decided, per rule and without the findings: what blocks approval, what it requires."""
    if report is None:
        return {"evaluated": False}
    rules = [{k: g[k] for k in ("id", "decision", "severity", "count")} for g in rule_groups(report.results)]
    brief = decision(report) | {"rules": rules}
    return fit(brief, "rules", BRIEF_LIMIT)


def decision(report: PolicyReport) -> dict[str, Any]:
    return {
        "evaluated": True,
        "counts": report.counts(),
        "denied": sorted({r.id for r in report.denied}),
        "requires": [q.model_dump() for q in report.requirements()],
        "waived_total": len(report.waived),
    }


def rule_groups(results: list[PolicyResult]) -> list[dict[str, Any]]:
    """The findings grouped by rule: denies first, then requires and warnings, the most severe first within each;
    each with its remediation once, one message as an example and the first resources it names."""
    groups: dict[tuple[str, str], list[PolicyResult]] = {}
    for r in results:
        groups.setdefault((r.decision, r.id), []).append(r)
    ordered = sorted(
        groups.values(),
        key=lambda g: (DECISIONS.index(g[0].decision), min(SEVERITY_ORDER[r.severity] for r in g), g[0].id),
    )
    answer = []
    for group in ordered:
        urns = [r.urn for r in group if r.urn]
        answer.append(
            {
                "id": group[0].id,
                "decision": group[0].decision,
                "severity": min((r.severity for r in group), key=SEVERITY_ORDER.__getitem__),
                "count": len(group),
                "message": short(group[0].message),
                "remediation": short(group[0].remediation),
                "urns": urns[:URNS_PER_RULE],
                "urns_total": len(urns),
            }
        )
    return answer


def policy_findings(record: PreviewRecord) -> dict[str, Any]:
    """The policy pack's decision on a preview and its findings grouped by rule (waivers too), in one answer."""
    report = record.policy
    head: dict[str, Any] = {"preview_id": record.preview_id, "stack": record.stack}
    if report is None:
        return head | {"evaluated": False}
    waived: dict[str, dict[str, Any]] = {}
    for w in report.waived:
        waived.setdefault(w.id, {"id": w.id, "reason": short(w.reason), "count": 0})["count"] += 1
    data = head | decision(report) | {"pack_digest": report.pack_digest, "waived": list(waived.values())}
    data["rules"] = rule_groups(report.results)
    return fit(fit_part(data, "waived", LIST_LIMIT), "rules")
