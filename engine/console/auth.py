"""Who is looking: an OIDC login (authorization code with PKCE, through authlib) or, behind an explicit dev flag,
a name typed in. The session keeps the person, their console roles and a CSRF token; every POST must carry it."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth  # type: ignore[import-untyped]
from starlette.requests import Request

from engine.console.settings import ConsoleSettings
from engine.identity import normalize_principal, same_principal

CONSOLE_ROLES = ("viewer", "approver", "admin")
CSRF_FIELD = "csrf"


@dataclass(frozen=True)
class Person:
    name: str
    roles: tuple[str, ...]
    via: str  # "oidc" or "dev"

    def can(self, role: str) -> bool:
        return role in self.roles or (role == "viewer" and bool(self.roles))


def console_roles(claim: Any, name: str, agents: frozenset[str]) -> tuple[str, ...]:
    """The known console roles in the token's claim (a list or a space-separated string); an agent's principal is
    only ever a viewer here, whatever its token says (names compared in normal form)."""
    values = claim.split() if isinstance(claim, str) else claim if isinstance(claim, list) else []
    roles = tuple(r for r in CONSOLE_ROLES if r in values)
    return ("viewer",) if roles and is_agent(name, agents) else roles


def is_agent(name: str, agents: frozenset[str]) -> bool:
    return any(same_principal(name, agent) for agent in agents)


def start_session(request: Request, person: Person, extra: dict[str, Any]) -> None:
    request.session.clear()
    request.session.update(
        {
            "user": person.name,
            "roles": list(person.roles),
            "via": person.via,
            "csrf": secrets.token_urlsafe(32),
            "login_at": int(time.time()),
            **extra,
        }
    )


def current(request: Request, max_age: int | None = None) -> Person | None:
    """The logged-in person, or None (no session, or a login older than `max_age` seconds: log in again)."""
    name, roles, since = request.session.get("user"), request.session.get("roles"), request.session.get("login_at")
    if not isinstance(name, str) or not isinstance(roles, list):
        return None
    if max_age is not None and (not isinstance(since, int) or time.time() - since > max_age):
        request.session.clear()
        return None
    return Person(name=name, roles=tuple(r for r in roles if r in CONSOLE_ROLES), via=str(request.session.get("via")))


def csrf_token(request: Request) -> str:
    return str(request.session.get(CSRF_FIELD, ""))


def csrf_ok(request: Request, form: Mapping[str, Any]) -> bool:
    """The form carries this session's token (compared in constant time); no session, no token."""
    expected = csrf_token(request)
    given = form.get(CSRF_FIELD)
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(given, expected)


def oidc_client(settings: ConsoleSettings) -> Any:
    """The identity provider's client: discovery from the issuer, PKCE (S256) always, a secret when configured."""
    oauth = OAuth()
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    kwargs: dict[str, Any] = {"scope": settings.oidc_scopes, "code_challenge_method": "S256"}
    if secret is None:
        kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 - a public client, not a password
    oauth.register(
        "idp",
        server_metadata_url=f"{str(settings.oidc_issuer).rstrip('/')}/.well-known/openid-configuration",
        client_id=settings.oidc_client_id,
        client_secret=secret,
        client_kwargs=kwargs,
    )
    return oauth.idp


def person_from_claims(claims: dict[str, Any], settings: ConsoleSettings, agents: frozenset[str]) -> Person:
    name = normalize_principal(str(claims.get("sub", "")))
    return Person(name=name, roles=console_roles(claims.get(settings.roles_claim), name, agents), via="oidc")
