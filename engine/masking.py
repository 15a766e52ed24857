"""Masking: every string that leaves the engine passes through a Masker, so secrets never reach logs, audit
records, results, MCP replies or PR comments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

SECRET = "[secret]"  # noqa: S105 - the placeholder, not a password
PULUMI_SIG = "4dabf18193072939515e22adb298388d"  # Pulumi's special-value signature key...
PULUMI_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - ...and its value for a secret (public)

# Common credential shapes, masked wherever they appear even if nobody told us they were secret.
PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.DOTALL),
    re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b"),  # AWS access key ids
    re.compile(r"(?i)(aws_secret_access_key|aws_session_token|secret_access_key)(\s*[=:]\s*)\S+"),
    re.compile(r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}\b|\bgithub_pat_[A-Za-z0-9_]{20,}\b"),  # GitHub tokens
    re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),  # Slack tokens
    re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}\b"),  # Google OAuth access tokens
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b"),  # JWTs
    re.compile(r"(?i)\b(bearer)(\s+)[A-Za-z0-9._~+/=-]{16,}"),
    re.compile(r"(?i)(\"private_key\"\s*:\s*\")[^\"]+"),  # service-account JSON
    # `password=...`, `token: ...`, `"secret": "..."`; never `Secret::name` (URNs) or `Secret:` type tokens.
    re.compile(
        r"(?i)\b(password|passwd|passphrase|token|api[_-]?key|secret)(\"?\s*(?:=|:(?![:/]))\s*\"?)"
        r"([^\s\"',;:]{6,})"
    ),
]


CACHE_LIMIT = 50_000  # masked strings remembered per secret set (a preview repeats type tokens, names, flags)


class Masker:
    """Replaces known secret values and credential-shaped strings with "[secret]"."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._use(secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(self._state[0])  # a copy: the list belongs with its remembered answers

    def add(self, *values: str) -> None:
        self._use([*self.secrets, *values])

    def _use(self, values: Iterable[str]) -> None:
        # Longest first, so a secret that contains another is masked whole; short values would mask noise. The
        # secrets and the answers computed with them are swapped as one: an answer from before a secret was
        # added is never served after it.
        secrets = sorted({s for s in values if isinstance(s, str) and len(s) >= 4}, key=len, reverse=True)
        self._state: tuple[list[str], dict[str, str]] = (secrets, {})

    def text(self, value: str) -> str:
        secrets, known = self._state
        masked = known.get(value)
        if masked is None:
            masked = _mask(value, secrets)
            if len(known) >= CACHE_LIMIT:
                known.clear()
            known[value] = masked
        return masked

    def obj(self, value: Any) -> Any:
        """Mask every string inside a JSON-like value (dict keys are kept); a value Pulumi marks secret (its
        signature key, as engine events carry secrets) is shown as a whole as "[secret]"."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            if value.get(PULUMI_SIG) == PULUMI_SECRET_SIG:
                return SECRET
            return {k: self.obj(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.obj(v) for v in value]
        return value


def _mask(value: str, secrets: list[str]) -> str:
    for secret in secrets:
        value = value.replace(secret, SECRET)
    for pattern, replacement in _REPLACEMENTS:
        value = pattern.sub(replacement, value)
    return value


def _replacement(pattern: re.Pattern[str]) -> Any:
    groups = pattern.groups
    if groups >= 2:
        # Keep the label and separator ("password=", "Bearer "), mask the value.
        return lambda m: f"{m.group(1)}{m.group(2)}{SECRET}" if m.lastindex and m.lastindex >= 2 else SECRET
    if groups == 1:
        return lambda m: f"{m.group(1)}{SECRET}"
    return SECRET


_REPLACEMENTS = [(pattern, _replacement(pattern)) for pattern in PATTERNS]


def bounded(text: str, limit: int) -> tuple[str, bool]:
    """(text cut to `limit` characters with a note, whether it was cut)."""
    if len(text) <= limit:
        return text, False
    head = limit - 64
    return text[:head] + f"\n... [{len(text) - head} more characters kept in the attachment]", True
