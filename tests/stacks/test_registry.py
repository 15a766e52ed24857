"""The registry names each stack's program: listing the stacks, or building one, imports no other cloud's SDK."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stacks import registry

ROOT = Path(__file__).resolve().parents[2]
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_kubernetes")
SDKS_IMPORTED = f"print(json.dumps(sorted(m for m in sys.modules if m in {CLOUD_SDKS!r})))"


def fresh_interpreter(code: str, *args: str) -> list[str]:
    """Run `code` in a new interpreter; it ends by printing the cloud SDKs it imported."""
    done = subprocess.run(
        [sys.executable, "-c", f"import json, sys\n{code}\n{SDKS_IMPORTED}", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    ("stack", "sdks"),
    [
        ("aws-dev", ["pulumi_aws", "pulumi_kubernetes"]),
        ("gcp-dev", ["pulumi_gcp", "pulumi_kubernetes"]),
        ("k8s-local", ["pulumi_kubernetes"]),
    ],
)
def test_synthesising_a_stack_imports_only_the_cloud_sdks_it_uses(stack: str, sdks: list[str]) -> None:
    code = (
        "from pathlib import Path\n"
        "from engine.synth import synth\n"
        "synth(sys.argv[1], Path(sys.argv[2]), isolated=False)"
    )
    assert fresh_interpreter(code, stack, str(ROOT)) == sdks


def test_listing_the_stacks_with_their_config_schemas_imports_no_cloud_sdk() -> None:
    code = (
        "from engine.catalog import RegistryCatalog\n"
        "catalog = RegistryCatalog()\n"
        "assert all(catalog.entry(name).config_schema['properties'] for name in catalog.names())"
    )
    assert fresh_interpreter(code) == []


def test_every_stack_names_the_function_that_builds_it() -> None:
    for spec in registry.list_stacks():
        module, _, function = spec.program.partition(":")
        assert callable(spec.build) and (spec.build.__module__, spec.build.__name__) == (module, function), spec.name
