"""Pure helpers for the common tags/labels every DataMCP resource carries."""

from __future__ import annotations

import re
from collections.abc import Mapping

RESERVED_KEYS = ("project", "stack", "managed-by")
MANAGED_BY = "datamcp"
_GCP_LABEL_RE = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")


def common_tags(project: str, stack: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """`project`, `stack` and `managed-by=datamcp`, plus user tags, which may not override those three."""
    tags = {"project": project, "stack": stack, "managed-by": MANAGED_BY}
    for key, value in (extra or {}).items():
        if key in RESERVED_KEYS:
            raise ValueError(f"tag {key!r} is set by DataMCP and cannot be overridden")
        if not key or len(key) > 128 or len(value) > 256:
            raise ValueError(f"tag {key!r}: keys are 1-128 characters, values at most 256")
        tags[key] = value
    return tags


def gcp_labels(tags: Mapping[str, str]) -> dict[str, str]:
    """GCP labels from tags: lowercase keys and values of letters, digits, '_' and '-' (63 characters at most)."""
    labels = {}
    for key, value in tags.items():
        k = re.sub(r"[^a-z0-9_-]", "_", key.lower())[:63]
        v = re.sub(r"[^a-z0-9_-]", "_", value.lower())[:63]
        if not _GCP_LABEL_RE.match(k):
            raise ValueError(f"tag {key!r} cannot become a GCP label key (it must start with a letter)")
        labels[k] = v
    return labels
