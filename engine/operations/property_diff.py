"""Per-resource property changes (old -> new) from a step's metadata: what a person reviews before approving."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

VALUE_LIMIT = 400  # characters of one old or new value kept for review
_MISSING = object()
_STEP = re.compile(r"\[(\d+)\]|\.?([^.\[]+)")


def lookup(inputs: Mapping[str, Any] | None, path: str) -> Any:
    """The value at a Pulumi property path such as `tags.Name` or `rules[0].port` (missing: None)."""
    value: Any = inputs or {}
    for index, key in _STEP.findall(path):
        if index and isinstance(value, list) and int(index) < len(value):
            value = value[int(index)]
        elif key and isinstance(value, Mapping) and key in value:
            value = value[key]
        else:
            return None
    return value


def shown(value: Any) -> Any:
    """A value small enough to review; large ones are cut and say so."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    if len(text) <= VALUE_LIMIT:
        return value
    return text[:VALUE_LIMIT] + f"... [{len(text) - VALUE_LIMIT} more characters]"


def property_diff(
    op: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None, paths: list[str]
) -> dict[str, dict[str, Any]]:
    """{path: {"old": ..., "new": ...}} for the changed paths; all inputs for a create or a delete."""
    if op == "create":
        return {k: {"old": None, "new": shown(v)} for k, v in sorted((new or {}).items()) if not k.startswith("__")}
    if op == "delete":
        return {k: {"old": shown(v), "new": None} for k, v in sorted((old or {}).items()) if not k.startswith("__")}
    return {p: {"old": shown(lookup(old, p)), "new": shown(lookup(new, p))} for p in sorted(paths)}


def step_diff(meta: Any, op: str) -> dict[str, dict[str, Any]]:
    """The property diff of one engine step (its detailed diff paths, else its changed top-level keys)."""
    paths = sorted((meta.detailed_diff or {}).keys()) or sorted(meta.diffs or [])
    old = getattr(meta.old, "inputs", None) if meta.old else None
    new = getattr(meta.new, "inputs", None) if meta.new else None
    return property_diff(op, old, new, paths)
