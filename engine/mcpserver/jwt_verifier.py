"""JWT verification for production: FastMCP's signature, issuer and audience checks plus the time claims it skips."""

from __future__ import annotations

import logging
import math
import time
from typing import Any, TypeGuard

from fastmcp.server.auth import AccessToken
from fastmcp.server.auth.providers.jwt import JWTVerifier

from engine.mcpserver.auth import principal_name, token_subject
from engine.vocabulary import echo

log = logging.getLogger(__name__)


def time_claims_problem(claims: dict[str, Any], now: float, leeway: float) -> str | None:
    """Why a token's time claims make it unusable, or None: `exp` is required (a token that never expires is
    refused) and must be in the future; `nbf` and `iat` must not be later than now plus the leeway (clock skew)."""
    exp = claims.get("exp")
    if not _is_time(exp):
        return "it has no valid exp claim (tokens must expire)"
    if exp <= now:
        return "it has expired"
    for name in ("nbf", "iat"):
        value = claims.get(name)
        if value is None:
            continue
        if not _is_time(value):
            return f"its {name} claim {echo(value)} is not a time"
        if value > now + leeway:
            return f"its {name} claim is {int(value - now)} s in the future"
    return None


def _is_time(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class ExpiringJWTVerifier(JWTVerifier):
    """FastMCP's JWTVerifier accepts tokens without `exp` and ignores `nbf` and `iat`; this one refuses them."""

    def __init__(self, *, leeway_seconds: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.leeway_seconds = leeway_seconds

    async def verify_token(self, token: str) -> AccessToken | None:
        access = await super().verify_token(token)
        if access is None:
            return None
        problem = time_claims_problem(access.claims or {}, time.time(), self.leeway_seconds)
        if problem is None and principal_name(access) is None:
            problem = f"its subject {echo(token_subject(access))} is not a usable principal name"
        if problem is not None:
            log.info("bearer token for %s refused: %s", echo(access.client_id), problem)
            return None
        return access
