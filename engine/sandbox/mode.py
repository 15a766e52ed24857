"""Sandbox and real states never mix: the engine checks a stack's state against the mode it is about to run in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from engine.errors import SandboxModeMismatch
from engine.sandbox.fakes import SIMULATED_MARKER

__all__ = ["SandboxModeMismatch", "ensure_mode", "state_mode"]

Mode = Literal["empty", "sandbox", "real", "mixed"]


def state_mode(deployment: Mapping[str, Any]) -> Mode:
    """Which cloud made the cloud resources in this exported state (providers and components do not count)."""
    resources = [
        r
        for r in deployment.get("resources") or []
        if r.get("custom") and not str(r.get("type", "")).startswith("pulumi:providers:")
    ]
    if not resources:
        return "empty"
    simulated = sum(1 for r in resources if (r.get("outputs") or {}).get(SIMULATED_MARKER) is True)
    if simulated == len(resources):
        return "sandbox"
    return "real" if simulated == 0 else "mixed"


def ensure_mode(stack: str, deployment: Mapping[str, Any], sandbox: bool) -> None:
    mode = state_mode(deployment)
    if mode == "empty" or (mode == "sandbox") == sandbox:
        return
    if mode == "mixed":
        raise SandboxModeMismatch(
            f"stack {stack!r} holds both simulated and real resources; fix its state first", stack=stack
        )
    made, running = (
        ("the simulated cloud", "real providers") if mode == "sandbox" else ("real providers", "the simulated cloud")
    )
    raise SandboxModeMismatch(
        f"stack {stack!r} was deployed with {made} and cannot be updated with {running}; "
        f"destroy it in {'sandbox' if mode == 'sandbox' else 'real'} mode first or use another backend",
        stack=stack,
        state_mode=mode,
    )
