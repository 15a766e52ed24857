"""Read a stack's `Pulumi.<stack>.yaml` into the config map Pulumi would pass its program, without the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from engine.errors import StackConfigInvalid
from engine.masking import SECRET

# What a program sees for a secret when no CLI decrypts it.
SECRET_PLACEHOLDER = SECRET


def _as_config_string(value: Any) -> str:
    """Pulumi passes scalars as strings and objects/lists as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def read_stack_config(project_root: Path, stack: str) -> tuple[dict[str, str], list[str]]:
    """(config, secret_keys) from `Pulumi.<stack>.yaml`. Secure values become a placeholder and never the secret."""
    path = project_root / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        return {}, []
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise StackConfigInvalid(f"{path.name}: not valid YAML: {exc}", file=path.name) from None
    raw = doc.get("config") or {}
    if not isinstance(raw, dict):
        raise StackConfigInvalid(f"{path.name}: config must be a mapping", file=path.name)
    config: dict[str, str] = {}
    secrets: list[str] = []
    for key, value in raw.items():
        if ":" not in str(key):
            raise StackConfigInvalid(
                f"{path.name}: {key}: keys need a namespace, e.g. datamcp:{key}", file=path.name, key=str(key)
            )
        if isinstance(value, dict) and set(value) == {"secure"}:
            config[str(key)] = SECRET_PLACEHOLDER
            secrets.append(str(key))
        else:
            config[str(key)] = _as_config_string(value)
    return config, sorted(secrets)
