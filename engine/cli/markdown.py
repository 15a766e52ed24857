"""The preview as a pull-request comment: the summary first, then what matters most, under GitHub's size limit."""

from __future__ import annotations

import json
from collections.abc import Callable

from engine.masking import Masker
from engine.policy.report import PolicyReport
from engine.results import PreviewResult, ResourceChange
from engine.vocabulary import RISKY_OPS, urn_name

GITHUB_COMMENT_LIMIT = 65_536
_OP_ORDER = ("delete", "replace", "create", "update", "import")
_NOTE_ROOM = "x" * 200  # room kept for the truncation note while fitting
Section = tuple[int, list[str]]  # (priority: lower is kept longer, lines)
Row = tuple[int, str]


def preview_markdown(preview: PreviewResult, *, limit: int = GITHUB_COMMENT_LIMIT, title: str | None = None) -> str:
    """A PR comment: summary first (deletes and replacements in bold), changes grouped by component, diagnostics and
    policy violations, details collapsed; kept under GitHub's limit by dropping the least important parts first."""
    changed = {op: n for op, n in preview.change_summary.items() if op != "same" and n}
    heading = title or f"### DataMCP preview: `{preview.stack}`"
    denied = preview.policy.denied if preview.policy is not None else []
    if not changed and not preview.diagnostics and not preview.policy_violations and not denied:
        counts = preview.policy.counts() if preview.policy is not None else {}
        warned = f" Policy: {counts['warn']} warning(s).\n" if counts.get("warn") else ""
        return f"{heading}\n\nNo changes. (preview `{preview.preview_id}`)\n{warned}"
    header = _header(preview, heading, changed)
    return Masker().text(_fit(preview, header, _rows(preview), _sections(preview), limit))


def _rank(op: str) -> int:
    return _OP_ORDER.index(op) if op in _OP_ORDER else 99


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:500]


def _component_of(urn: str) -> str:
    """The component a resource belongs to, from its URN's type chain ('-' for top-level resources)."""
    chain = urn.split("::")[2].split("$")
    return chain[-2] if len(chain) > 1 else "-"


def _header(preview: PreviewResult, heading: str, changed: dict[str, int]) -> list[str]:
    parts = []
    for op in sorted(changed, key=lambda o: (_rank(o), o)):
        text = f"{changed[op]} to {op}"
        parts.append(f"**{text}**" if op in RISKY_OPS else text)
    header = [heading, "", f"{', '.join(parts) or 'no resource changes'} — preview `{preview.preview_id}`"]
    dangerous = [c for c in preview.changes if c.op in RISKY_OPS]
    if dangerous:
        names = ", ".join(f"`{urn_name(c.urn)}`" for c in dangerous[:10]) + (" …" if len(dangerous) > 10 else "")
        header += ["", "> [!WARNING]", f"> {len(dangerous)} resource(s) will be **deleted or replaced**: {names}"]
    return header


def _rows(preview: PreviewResult) -> list[Row]:
    """The change table's rows grouped by component; deletes and replacements rank first to be kept."""
    groups: dict[str, list[ResourceChange]] = {}
    for c in preview.changes:
        groups.setdefault(_component_of(c.urn), []).append(c)
    rows: list[Row] = []
    for component in sorted(groups):
        rows.append((1, f"| | **{component}** | | |"))
        for c in sorted(groups[component], key=lambda c: (_rank(c.op), c.urn)):
            keys = ", ".join(c.replace_keys or c.changed_keys)
            risky = c.op in RISKY_OPS
            label = f"**{c.op}**" if risky else c.op
            rows.append((0 if risky else 2, f"| {label} | `{urn_name(c.urn)}` | `{c.type}` | {_cell(keys)} |"))
    return rows


def _policy_section(report: PolicyReport | None) -> Section | None:
    if report is None or not (report.results or report.waived):
        return None
    lines = [
        "",
        "#### Policy",
        "",
        "| decision | rule | severity | resource | finding | fix |",
        "|---|---|---|---|---|---|",
    ]
    for r in report.results:
        decision = f"**{r.decision}**" if r.decision != "warn" else r.decision
        need = f" (needs {r.approvals} x {r.role})" if r.decision == "require" else ""
        resource = f"`{urn_name(r.urn)}`" if r.urn else "-"
        lines.append(
            f"| {decision} | `{r.id}` | {r.severity} | {resource} | {_cell(r.message)}{need} | {_cell(r.remediation)} |"
        )
    lines += [f"| waived | `{w.id}` | | | {_cell(w.message)} | reason: {_cell(w.reason)} |" for w in report.waived]
    return (0, lines)


def _sections(preview: PreviewResult) -> list[Section]:
    sections: list[Section] = []
    policy = _policy_section(preview.policy)
    if policy is not None:
        sections.append(policy)
    if preview.policy_violations:
        lines = ["", "#### Policy violations", "", "| policy | enforcement | resource | message |", "|---|---|---|---|"]
        lines += [
            f"| {p.pack}/{p.policy} | {p.enforcement} | `{urn_name(p.urn or '-')}` | {_cell(p.message)} |"
            for p in preview.policy_violations
        ]
        sections.append((0, lines))
    errors = [d for d in preview.diagnostics if d.severity == "error"]
    warnings = [d for d in preview.diagnostics if d.severity != "error"]
    if errors:
        sections.append((1, ["", "#### Errors", "", *[f"- {_cell(d.message)}" for d in errors]]))
    if warnings:
        items = [f"- {_cell(d.message)}" for d in warnings]
        sections.append((3, ["", "<details><summary>Warnings</summary>", "", *items, "", "</details>"]))
    sections.append((4, _details(preview)))
    return sections


def _details(preview: PreviewResult) -> list[str]:
    ids = {
        "preview_id": preview.preview_id,
        "operation_id": preview.operation_id,
        "change_summary": preview.change_summary,
        "expires_at": preview.expires_at,
    }
    return ["", "<details><summary>Details</summary>", "", "```json", json.dumps(ids, indent=2), "```", "</details>"]


def _renderer(header: list[str]) -> Callable[[list[str], list[list[str]], str], str]:
    table = ["", "#### Changes", "", "| | resource | type | changed |", "|---|---|---|---|"]

    def render(kept_rows: list[str], kept_sections: list[list[str]], note: str) -> str:
        body = header + (table + kept_rows if kept_rows else []) + [line for s in kept_sections for line in s]
        return "\n".join(body + (["", note] if note else [])) + "\n"

    return render


def _fit(preview: PreviewResult, header: list[str], rows: list[Row], sections: list[Section], limit: int) -> str:
    """Everything if it fits; else drop the least important sections, then rows, and say how much was left out."""
    render = _renderer(header)
    all_rows = [r for _, r in rows]
    text = render(all_rows, [s for _, s in sections], "")
    if len(text) <= limit:
        return text
    kept_sections = [s for _, s in sorted(sections, key=lambda x: x[0])]
    while len(kept_sections) > 1 and len(render(all_rows, kept_sections, _NOTE_ROOM)) > limit:
        kept_sections.pop()
    ranked = sorted(range(len(rows)), key=lambda i: (rows[i][0], i))
    keep = set(ranked)
    for i in reversed(ranked):
        if len(render([rows[j][1] for j in sorted(keep)], kept_sections, _NOTE_ROOM)) <= limit:
            break
        keep.discard(i)
    note = (
        f"_Truncated to fit a GitHub comment: {len(rows) - len(keep)} change row(s) and "
        f"{len(sections) - len(kept_sections)} section(s) left out. "
        f"Run `datamcp preview {preview.stack}` for the full list._"
    )
    return render([rows[j][1] for j in sorted(keep)], kept_sections, note)
