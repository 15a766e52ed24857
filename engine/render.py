"""Text renderings of engine results for terminals (the CLI's presentation, kept out of the engine's logic)."""

from __future__ import annotations

import json
from collections import defaultdict

from engine.results import SynthResource, SynthResult


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
