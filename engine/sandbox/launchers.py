"""Launchers that let the pulumi CLI find the simulated provider as the aws, gcp and kubernetes plugins.

They are written at run time into the sandbox directory (never committed, never on the global PATH) and put on the
PATH of the CLI subprocess only.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

from engine.sandbox.fakes import PACKAGES
from engine.sandbox.provider import SANDBOX_DIR_ENV
from engine.store_files import write_atomic


def write_launchers(
    sandbox_dir: Path, python: str | None = None, packages: frozenset[str] = frozenset(PACKAGES)
) -> Path:
    """Write `pulumi-resource-<package>` scripts for this interpreter and the simulated `packages` into a folder of
    `sandbox_dir` (`bin` for all of them) and return it. A package left out is found as the real plugin."""
    name = "bin" if packages == frozenset(PACKAGES) else "bin-" + "-".join(sorted(packages))
    bin_dir = sandbox_dir / name
    bin_dir.mkdir(parents=True, exist_ok=True)
    interpreter = python or sys.executable
    for stray in bin_dir.glob("pulumi-resource-*"):
        if stray.name.removeprefix("pulumi-resource-") not in packages:
            stray.unlink()  # a plugin planted here would run as a provider meant to be real (or another simulated one)
    for package in sorted(packages):
        script = bin_dir / f"pulumi-resource-{package}"
        body = (
            "#!/bin/sh\n"
            "# DataMCP sandbox: the simulated cloud standing in for this provider plugin.\n"
            f"export {SANDBOX_DIR_ENV}={shlex.quote(str(sandbox_dir))}\n"
            f'exec {shlex.quote(interpreter)} -m engine.sandbox.provider {package} "$@"\n'
        )
        if not script.exists() or script.read_text() != body:
            write_atomic(script, body, mode=0o755)  # a temp file of its own: operations starting at once may race
    return bin_dir
