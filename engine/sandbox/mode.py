"""Sandbox and real states never mix, per provider: the engine checks a stack's state against the providers it is
about to simulate (aws and gcp always in the sandbox; kubernetes unless a real cluster is configured for the
Kubernetes stacks)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from engine.errors import SandboxModeMismatch
from engine.sandbox.fakes import PACKAGES, SIMULATED_MARKER

__all__ = ["SandboxModeMismatch", "ensure_mode", "simulated_packages", "state_mode"]

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


def simulated_packages(sandbox: bool, cloud: str, real_cluster: bool) -> frozenset[str]:
    """The providers the simulated cloud stands in for on a stack of `cloud`."""
    if not sandbox:
        return frozenset()
    if cloud == "kubernetes" and real_cluster:
        return frozenset(PACKAGES) - {"kubernetes"}
    return frozenset(PACKAGES)


def package_of(resource: Mapping[str, Any]) -> str:
    return str(resource.get("type", "")).split(":", 1)[0]


def ensure_mode(stack: str, deployment: Mapping[str, Any], simulated: frozenset[str]) -> None:
    """Refuse when the state's resources of a provider were made in the other mode than this run's."""
    resources = [r for r in deployment.get("resources") or [] if r.get("custom")]
    for package in sorted({package_of(r) for r in resources} - {"pulumi"}):
        mode = state_mode({"resources": [r for r in resources if package_of(r) == package]})
        if mode == "empty" or (mode == "sandbox") == (package in simulated):
            continue
        raise _mismatch(stack, package, mode)


def _mismatch(stack: str, package: str, mode: Mode) -> SandboxModeMismatch:
    if mode == "mixed":
        return SandboxModeMismatch(
            f"stack {stack!r} holds both simulated and real {package} resources; fix its state first", stack=stack
        )
    made, running = (
        ("the simulated cloud", "the real provider")
        if mode == "sandbox"
        else ("the real provider", "the simulated cloud")
    )
    return SandboxModeMismatch(
        f"stack {stack!r}'s {package} resources were made with {made} and cannot be updated with {running}; "
        f"destroy them in {'sandbox' if mode == 'sandbox' else 'real'} mode first or use another backend",
        stack=stack,
        state_mode=mode,
        package=package,
    )
