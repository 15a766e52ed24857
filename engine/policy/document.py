"""The policy input document (schema version 1, docs/policy.md): the stack, the requester, every change with old
and new inputs, the planned resource graph, pending operations and drift. Secrets are masked before it is built."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from engine.catalog import CatalogEntry
from engine.policy.report import SCHEMA_VERSION
from engine.results import ResourceChange, SynthResult
from engine.vocabulary import urn_name

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's marker for a value not known until apply
UNKNOWN_SHOWN = "[unknown]"
Mask = Callable[[Any], Any]


def known(value: Any) -> Any:
    """The value with the engine's unknown marker shown as "[unknown]", as synth shows it."""
    if value == UNKNOWN:
        return UNKNOWN_SHOWN
    if isinstance(value, Mapping):
        return {k: known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [known(v) for v in value]
    return value


def stack_section(entry: CatalogEntry, project: str) -> dict[str, str]:
    return {"name": entry.name, "project": project, "cloud": entry.cloud, "environment": entry.environment}


def change_entry(change: ResourceChange, inputs: tuple[Any, Any], mask: Mask) -> dict[str, Any]:
    old, new = inputs
    return {
        "urn": change.urn,
        "type": change.type,
        "name": urn_name(change.urn),
        "op": change.op,
        "old_inputs": known(mask(old)) if old is not None else None,
        "new_inputs": known(mask(new)) if new is not None else None,
        "changed_keys": change.changed_keys,
        "replace_keys": change.replace_keys,
        "detailed_diff": change.detailed_diff,
    }


def plan_dependencies(plan: Path | None) -> dict[str, list[str]]:
    """Each resource's dependencies as the saved plan's goals record them (a destroy has no plan: none)."""
    if plan is None or not plan.is_file():
        return {}
    goals = json.loads(plan.read_text()).get("resourcePlans") or {}
    return {urn: list((p.get("goal") or {}).get("dependencies") or []) for urn, p in goals.items()}


def document(
    *,
    stack: dict[str, str],
    requester: str,
    kind: str,
    changes: list[dict[str, Any]],
    resources: list[dict[str, Any]],
    pending: list[str],
    drifted: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "stack": stack,
        "requester": requester,
        "kind": kind,
        "changes": sorted(changes, key=lambda c: c["urn"]),
        "resources": sorted(resources, key=lambda r: r["urn"]),
        "pending_operations": sorted(pending),
        "drift": {"checked": drifted is not None, "drifted": sorted(drifted or [])},
    }


def preview_document(
    *,
    stack: dict[str, str],
    requester: str,
    kind: str,
    changes: Mapping[str, ResourceChange],
    step_inputs: Mapping[str, tuple[Any, Any]],
    planned: Mapping[str, dict[str, Any]],
    plan: Path | None,
    pending: list[str],
    mask: Mask,
    drifted: list[str] | None = None,
) -> dict[str, Any]:
    """A preview's document: its changes and the graph its steps leave, dependencies from its saved plan, and what
    the stack's last drift check found (None: never checked)."""
    dependencies = plan_dependencies(plan)
    resources = [
        {**r, "inputs": known(mask(r["inputs"])), "dependencies": dependencies.get(urn, [])}
        for urn, r in planned.items()
    ]
    entries = [change_entry(c, step_inputs.get(urn, (None, None)), mask) for urn, c in changes.items()]
    return document(
        stack=stack,
        requester=requester,
        kind=kind,
        changes=entries,
        resources=resources,
        pending=pending,
        drifted=drifted,
    )


def synth_document(stack: dict[str, str], requester: str, synth: SynthResult) -> dict[str, Any]:
    """`datamcp policy eval`'s document: the synth graph, no state, so no changes (kind "synth")."""
    resources = [r.model_dump() for r in synth.resources]
    return document(stack=stack, requester=requester, kind="synth", changes=[], resources=resources, pending=[])
