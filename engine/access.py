"""Who may do what: principals, roles, bearer tokens and rate limits, shared by every adapter that serves remote
callers (the MCP server)."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from engine.errors import SettingsError

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
# Each role includes the ones before it.
RANK = {role: i for i, role in enumerate(ROLES)}


class Principal(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@+:-]{0,127}$")
    roles: list[Role] = Field(min_length=1)

    @field_validator("roles", mode="before")
    @classmethod
    def _known(cls, value: Any) -> Any:
        for role in value or []:
            if role not in ROLES:
                raise ValueError(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        return value

    def has(self, role: Role) -> bool:
        return any(RANK[r] >= RANK[role] for r in self.roles)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def load_tokens(text: str, source: str) -> dict[str, Principal]:
    """Static bearer tokens: a JSON object {"sha256:<hex of token>" | "<token>": {"principal": ..., "roles": [...]}}.
    Files should hold digests; plain tokens are accepted for env-var use and hashed at once. Unknown roles and
    malformed entries are an error at start-up."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{source}: not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise SettingsError(f"{source}: must be a JSON object of token -> principal")
    table: dict[str, Principal] = {}
    for key, entry in raw.items():
        digest = key.removeprefix("sha256:") if key.startswith("sha256:") else token_digest(key)
        try:
            table[digest] = Principal(name=entry.get("principal", ""), roles=entry.get("roles", []))
        except (ValidationError, AttributeError) as exc:
            detail = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else "must be an object"
            raise SettingsError(
                f"{source}: token for {entry.get('principal', '?') if isinstance(entry, dict) else '?'}: {detail}"
            ) from None
    return table


def load_tokens_file(path: Path) -> dict[str, Principal]:
    try:
        return load_tokens(path.read_text(), str(path.name))
    except OSError as exc:
        raise SettingsError(f"cannot read the token file {path.name}: {exc.strerror}") from None


class RateLimiter:
    """A token bucket per principal: `per_minute` calls, refilled continuously."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self.lock:
            tokens, last = self.buckets.get(key, (float(self.per_minute), now))
            tokens = min(float(self.per_minute), tokens + (now - last) * self.per_minute / 60.0)
            if tokens < 1:
                self.buckets[key] = (tokens, now)
                return False
            self.buckets[key] = (tokens - 1, now)
            return True
