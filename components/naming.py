"""Pure helpers that derive stable, valid physical names for cloud resources."""

from __future__ import annotations

import hashlib
import re

__all__ = ["dns_label", "physical_name"]


def _digest(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def physical_name(
    *parts: str,
    max_len: int,
    invalid: str = r"[^A-Za-z0-9-]",
    lower: bool = False,
    separator: str = "-",
) -> str:
    """Join `parts` into a name of at most `max_len` characters, replacing characters matched by `invalid`.

    Names are stable (the same parts always give the same name); a name that would be too long is cut and ends in
    a short digest of the full name, so two long names that share a prefix still differ.
    """
    if not parts or any(not p for p in parts):
        raise ValueError("name parts must be non-empty")
    raw = separator.join(parts)
    name = re.sub(invalid, separator, raw.lower() if lower else raw)
    name = re.sub(re.escape(separator) + "{2,}", separator, name).strip(separator)
    if not name:
        raise ValueError(f"no valid characters in name {raw!r}")
    if len(name) > max_len:
        suffix = separator + _digest(raw)
        name = name[: max_len - len(suffix)].rstrip(separator) + suffix
    return name


def dns_label(*parts: str, max_len: int = 63) -> str:
    """A lowercase DNS-style label: letters, digits and hyphens, starting with a letter (S3, GCS, GKE, k8s)."""
    name = physical_name(*parts, max_len=max_len, lower=True)
    if not name[0].isalpha():
        name = physical_name("x", name, max_len=max_len, lower=True)
    return name
