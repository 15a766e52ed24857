"""Pure helpers for Helm values and chart references."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

# An exact SemVer 2.0 version (optionally with a leading v): no ranges, wildcards or "latest".
EXACT_VERSION = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` merged over `base`: maps merge key by key, anything else (lists too) is replaced."""
    merged = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def is_pinned(version: str) -> bool:
    return bool(EXACT_VERSION.match(version))
