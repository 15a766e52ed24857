"""Text renderings of engine results for terminals (the CLI's presentation, kept out of the engine's logic)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from engine.cli.markdown import GITHUB_COMMENT_LIMIT, preview_markdown
from engine.masking import Masker
from engine.policy.report import PolicyReport
from engine.results import PreviewResult, PreviewReview, SynthResource, SynthResult
from engine.vocabulary import Kind, urn_name

__all__ = [
    "GITHUB_COMMENT_LIMIT",
    "preview_markdown",
    "preview_text",
    "review_text",
    "synth_json",
    "synth_markdown",
    "synth_tree",
]


def synth_json(result: SynthResult) -> str:
    """Stable JSON: keys sorted, resources sorted by URN (the schema is docs/synth.md)."""
    return json.dumps(result.model_dump(mode="json"), sort_keys=True, indent=2)


def synth_tree(result: SynthResult) -> str:
    """Components with their children, indented; counts by type at the end."""
    children: dict[str | None, list[SynthResource]] = defaultdict(list)
    urns = {r.urn for r in result.resources}
    for r in result.resources:
        children[r.parent if r.parent in urns else None].append(r)
    lines = [f"{result.project}/{result.stack}"]

    def walk(parent: str | None, prefix: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name))
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            marker = "└─ " if last else "├─ "
            suffix = "  [protected]" if r.protect else ""
            lines.append(f"{prefix}{marker}{r.type}  {r.name}{suffix}")
            walk(r.urn, prefix + ("   " if last else "│  "))

    walk(None, "")
    lines.append("")
    lines.append(f"{result.resource_count} resources ({result.custom_resource_count} cloud resources):")
    width = max((len(t) for t in result.counts_by_type), default=0)
    for typ, count in result.counts_by_type.items():
        lines.append(f"  {typ:<{width}}  {count}")
    if result.outputs:
        lines.append("")
        lines.append("outputs:")
        for name, value in sorted(result.outputs.items()):
            lines.append(f"  {name}: {value if isinstance(value, str) else json.dumps(value)}")
    return "\n".join(lines)


def policy_lines(report: PolicyReport | None) -> list[str]:
    """The policy pack's findings, denies first, each with its rule id, resource and fix."""
    if report is None:
        return ["  policy: not evaluated"]
    counts = report.counts()
    lines = [f"  policy: {counts['deny']} deny, {counts['require']} require, {counts['warn']} warn"]
    for r in report.results:
        where = f" {urn_name(r.urn)}" if r.urn else ""
        need = f" (needs {r.approvals} x {r.role})" if r.decision == "require" else ""
        lines.append(f"    {r.decision.upper()} {r.id} [{r.severity}]{where}: {r.message}{need}")
        lines.append(f"      fix: {r.remediation}")
    lines += [f"    WAIVED {w.id}: {w.reason}" for w in report.waived]
    return lines


def preview_text(preview: PreviewResult) -> str:
    """A terminal summary of a preview: counts, one line per change, diagnostics, and what to do next."""
    counts = ", ".join(f"{n} to {op}" for op, n in sorted(preview.change_summary.items()) if op != "same" and n)
    lines = [f"Preview {preview.preview_id} of {preview.stack} ({preview.kind}): {counts or 'no changes'}"]
    symbol = {"create": "+", "update": "~", "delete": "-", "replace": "+-"}
    for change in preview.changes:
        keys = f"  [{', '.join(change.changed_keys)}]" if change.changed_keys else ""
        forced = f"  replace because: {', '.join(change.replace_keys)}" if change.replace_keys else ""
        lines.append(f"  {symbol.get(change.op, '?'):>2} {change.type}  {urn_name(change.urn)}{keys}{forced}")
    for d in preview.diagnostics:
        lines.append(f"  {d.severity}: {d.message}")
    for p in preview.policy_violations:
        lines.append(f"  policy {p.pack}/{p.policy} ({p.enforcement}): {p.message}")
    lines += policy_lines(preview.policy)
    if preview.pending_operations:
        lines.append(f"  PENDING from an interrupted run: {', '.join(preview.pending_operations)}")
    if preview.policy is not None and preview.policy.denied:
        lines.append("Denied by policy: nobody can approve this preview; fix the findings and preview again.")
    elif preview.has_changes:
        verb = Kind(preview.kind).verb
        lines.append(
            f"To apply: another person reviews it with `datamcp show {preview.preview_id}` and approves it with "
            f"`datamcp approve {preview.preview_id}`, then "
            f"`datamcp {verb} {preview.stack} --preview-id {preview.preview_id} --approval-id ID` "
            f"(before {preview.expires_at})."
        )
    return "\n".join(lines)


def synth_markdown(result: SynthResult, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The PR comment for a forked PR (no credentials): the offline graph, clearly labelled as not a diff."""
    head = [
        f"### DataMCP synth: `{result.stack}` (offline)",
        "",
        "> [!NOTE]",
        "> This pull request comes from a fork, so the workflow has no cloud credentials: this is the resource graph "
        "computed offline (`datamcp synth`), **not** a diff against the deployed stack. A maintainer can run the "
        "preview workflow for the real diff.",
        "",
        f"{result.resource_count} resources ({result.custom_resource_count} cloud resources).",
        "",
        "| type | count |",
        "|---|---|",
    ]
    rows = [f"| `{t}` | {n} |" for t, n in result.counts_by_type.items()]
    tree = synth_tree(result)
    body = [*head, *rows, "", "<details><summary>Resource tree</summary>", "", "```", tree, "```", "</details>"]
    text = "\n".join(body) + "\n"
    if len(text) > limit:
        text = "\n".join([*head, *rows, "", "_The resource tree was left out to fit a GitHub comment._"]) + "\n"
    return Masker().text(text)


def review_text(review: PreviewReview) -> str:
    """Exactly what an approval binds: each change with its old -> new values, why it replaces, what else matters.
    Control characters are shown escaped, so nothing in a preview can redraw the terminal."""
    return _visible(_review_lines(review))


def _visible(text: str) -> str:
    return "".join(c if c == "\n" or (c.isprintable() and c != "\x1b") else repr(c)[1:-1] for c in text)


def _review_lines(review: PreviewReview) -> str:
    p = review.preview
    lines = [
        f"Preview {p.preview_id}: {p.kind} of {p.stack}, requested by {review.requester}, expires {p.expires_at}",
        f"binding digest: {review.binding}",
    ]
    if review.targets or review.refresh:
        lines.append(
            f"targets: {', '.join(review.targets) or 'all'}; refresh first: {'yes' if review.refresh else 'no'}"
        )
    for change in p.changes:
        lines.append(f"  {change.op:<8} {change.type}  {urn_name(change.urn)}")
        if change.replace_keys:
            lines.append(f"           replaced because {', '.join(change.replace_keys)} changed")
        for path, values in review.property_diffs.get(change.urn, {}).items():
            lines.append(f"           {path}: {_value(values.get('old'))} -> {_value(values.get('new'))}")
    for d in p.diagnostics:
        lines.append(f"  {d.severity}: {d.message}")
    if p.pending_operations:
        lines.append(f"  PENDING from an interrupted run: {', '.join(p.pending_operations)}")
    lines += policy_lines(p.policy)
    if p.policy is not None:
        lines.append(f"policy pack digest: {p.policy.pack_digest}")
    approved = ", ".join(review.approved_by) or "nobody yet"
    lines.append(f"approvals: {len(review.approved_by)} of {review.approvals_required} needed ({approved})")
    return "\n".join(lines)


def _value(value: Any) -> str:
    return "(none)" if value is None else value if isinstance(value, str) else json.dumps(value, sort_keys=True)
