"""The one stack program: the engine's inline program and the Pulumi.yaml entry point are this same function."""

from __future__ import annotations

import pulumi

from stacks import registry
from stacks.config import load_config


def program() -> None:
    """Build the current stack (pulumi.get_stack()) from its registry entry and its validated config."""
    spec = registry.get(pulumi.get_stack())
    config = load_config(spec.cloud, spec.config_model)
    spec.build(config)
