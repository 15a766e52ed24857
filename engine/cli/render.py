"""Text renderings of engine results for terminals (the CLI's presentation, kept out of the engine's logic)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from engine.masking import Masker
from engine.results import PreviewResult, SynthResource, SynthResult


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


def preview_text(preview: PreviewResult) -> str:
    """A terminal summary of a preview: counts, one line per change, diagnostics, and what to do next."""
    counts = ", ".join(f"{n} to {op}" for op, n in sorted(preview.change_summary.items()) if op != "same" and n)
    lines = [f"Preview {preview.preview_id} of {preview.stack} ({preview.kind}): {counts or 'no changes'}"]
    symbol = {"create": "+", "update": "~", "delete": "-", "replace": "+-"}
    for change in preview.changes:
        keys = f"  [{', '.join(change.changed_keys)}]" if change.changed_keys else ""
        forced = f"  replace because: {', '.join(change.replace_keys)}" if change.replace_keys else ""
        lines.append(f"  {symbol.get(change.op, '?'):>2} {change.type}  {change.urn.rsplit('::', 1)[-1]}{keys}{forced}")
    for d in preview.diagnostics:
        lines.append(f"  {d.severity}: {d.message}")
    for p in preview.policy_violations:
        lines.append(f"  policy {p.pack}/{p.policy} ({p.enforcement}): {p.message}")
    if preview.pending_operations:
        lines.append(f"  PENDING from an interrupted run: {', '.join(preview.pending_operations)}")
    if preview.has_changes:
        verb = "up" if preview.kind == "update" else "destroy"
        lines.append(
            f"To apply: another person runs `datamcp approve {preview.preview_id}`, then "
            f"`datamcp {verb} {preview.stack} --preview-id {preview.preview_id} --approval-id ID` "
            f"(before {preview.expires_at})."
        )
    return "\n".join(lines)


GITHUB_COMMENT_LIMIT = 65_536
_OP_ORDER = ("delete", "replace", "create", "update", "import")
_OP_LABEL = {"create": "create", "update": "update", "replace": "replace", "delete": "delete", "import": "import"}


def _component_of(urn: str) -> str:
    """The component a resource belongs to, from its URN's type chain ('-' for top-level resources)."""
    chain = urn.split("::")[2].split("$")
    return chain[-2] if len(chain) > 1 else "-"


def preview_markdown(preview: PreviewResult, *, limit: int = GITHUB_COMMENT_LIMIT, title: str | None = None) -> str:
    """A PR comment: summary first (deletes and replacements in bold), changes grouped by component, diagnostics and
    policy violations, details collapsed; kept under GitHub's limit by dropping the least important parts first."""
    changed = {op: n for op, n in preview.change_summary.items() if op != "same" and n}
    heading = title or f"### DataMCP preview: `{preview.stack}`"
    if not changed and not preview.diagnostics and not preview.policy_violations:
        return f"{heading}\n\nNo changes. (preview `{preview.preview_id}`)\n"
    return Masker().text(_preview_markdown(preview, heading, changed, limit))


def _preview_markdown(preview: PreviewResult, heading: str, changed: dict[str, int], limit: int) -> str:
    parts = []
    for op in sorted(changed, key=lambda o: (_OP_ORDER.index(o) if o in _OP_ORDER else 99, o)):
        text = f"{changed[op]} to {_OP_LABEL.get(op, op)}"
        parts.append(f"**{text}**" if op in ("delete", "replace") else text)
    header = [heading, "", f"{', '.join(parts) or 'no resource changes'} — preview `{preview.preview_id}`"]
    dangerous = [c for c in preview.changes if c.op in ("delete", "replace")]
    if dangerous:
        header.append("")
        header.append("> [!WARNING]")
        header.append(
            f"> {len(dangerous)} resource(s) will be **deleted or replaced**: "
            + ", ".join(f"`{c.urn.rsplit('::', 1)[-1]}`" for c in dangerous[:10])
            + (" …" if len(dangerous) > 10 else "")
        )
    sections: list[tuple[int, list[str]]] = []  # (priority: lower is kept longer, lines)
    if preview.policy_violations:
        lines = ["", "#### Policy violations", "", "| policy | enforcement | resource | message |", "|---|---|---|---|"]
        lines += [
            f"| {p.pack}/{p.policy} | {p.enforcement} | `{(p.urn or '-').rsplit('::', 1)[-1]}` | {_cell(p.message)} |"
            for p in preview.policy_violations
        ]
        sections.append((0, lines))
    errors = [d for d in preview.diagnostics if d.severity == "error"]
    warnings = [d for d in preview.diagnostics if d.severity != "error"]
    if errors:
        sections.append((1, ["", "#### Errors", "", *[f"- {_cell(d.message)}" for d in errors]]))
    groups: dict[str, list[Any]] = {}
    for c in preview.changes:
        groups.setdefault(_component_of(c.urn), []).append(c)
    table = ["", "#### Changes", "", "| | resource | type | changed |", "|---|---|---|---|"]
    rows: list[tuple[int, str]] = []
    for component in sorted(groups):
        rows.append((1, f"| | **{component}** | | |"))
        for c in sorted(groups[component], key=lambda c: (_OP_ORDER.index(c.op) if c.op in _OP_ORDER else 99, c.urn)):
            keys = ", ".join(c.replace_keys or c.changed_keys)
            label = f"**{c.op}**" if c.op in ("delete", "replace") else c.op
            rows.append(
                (
                    0 if c.op in ("delete", "replace") else 2,
                    f"| {label} | `{c.urn.rsplit('::', 1)[-1]}` | `{c.type}` | {_cell(keys)} |",
                )
            )
    if warnings:
        sections.append(
            (
                3,
                [
                    "",
                    "<details><summary>Warnings</summary>",
                    "",
                    *[f"- {_cell(d.message)}" for d in warnings],
                    "",
                    "</details>",
                ],
            )
        )
    details = [
        "",
        "<details><summary>Details</summary>",
        "",
        "```json",
        json.dumps(
            {
                "preview_id": preview.preview_id,
                "operation_id": preview.operation_id,
                "change_summary": preview.change_summary,
                "expires_at": preview.expires_at,
            },
            indent=2,
        ),
        "```",
        "</details>",
    ]
    sections.append((4, details))

    def render(kept_rows: list[str], kept_sections: list[list[str]], note: str) -> str:
        body = header + (table + kept_rows if kept_rows else []) + [line for s in kept_sections for line in s]
        if note:
            body += ["", note]
        return "\n".join(body) + "\n"

    all_rows = [r for _, r in rows]
    text = render(all_rows, [s for _, s in sections], "")
    if len(text) <= limit:
        return text
    # Too long: drop the least important sections, then less important rows, and say how much was left out.
    kept_sections = [s for p, s in sorted(sections, key=lambda x: x[0])]
    while kept_sections and len(render(all_rows, kept_sections, "x" * 200)) > limit and len(kept_sections) > 1:
        kept_sections.pop()
    ranked = sorted(range(len(rows)), key=lambda i: (rows[i][0], i))
    keep = set(ranked)
    for i in reversed(ranked):
        if len(render([rows[j][1] for j in sorted(keep)], kept_sections, "x" * 200)) <= limit:
            break
        keep.discard(i)
    left_rows = len(rows) - len(keep)
    left_sections = len(sections) - len(kept_sections)
    note = (
        f"_Truncated to fit a GitHub comment: {left_rows} change row(s) and {left_sections} section(s) left "
        f"out. Run `datamcp preview {preview.stack}` for the full list._"
    )
    return render([rows[j][1] for j in sorted(keep)], kept_sections, note)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")[:500]


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
