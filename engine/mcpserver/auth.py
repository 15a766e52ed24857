"""Who is calling: bearer tokens (static, by digest) or JWTs over HTTP, the local OS user over stdio."""

from __future__ import annotations

from typing import Literal

from fastmcp.server.auth import AccessToken, TokenVerifier
from pydantic import ValidationError

from engine.access import ROLES, Principal, load_tokens, load_tokens_file, token_digest
from engine.errors import SettingsError
from engine.identity import normalize_principal
from engine.mcpserver.settings import McpSettings

Transport = Literal["stdio", "http"]


class HashedTokenVerifier(TokenVerifier):
    """Static bearer tokens for the embedded default, compared by sha256 digest (files hold no plain tokens)."""

    def __init__(self, table: dict[str, Principal], roles_claim: str) -> None:
        super().__init__()
        self.table = table
        self.roles_claim = roles_claim

    async def verify_token(self, token: str) -> AccessToken | None:
        principal = self.table.get(token_digest(token))
        if principal is None:
            return None
        return AccessToken(
            token=token,
            client_id=principal.name,
            scopes=list(principal.roles),
            claims={"sub": principal.name, self.roles_claim: list(principal.roles)},
        )


def auth_provider(settings: McpSettings) -> TokenVerifier:
    """JWT (issuer, audience, JWKS, expiry) when configured, else static tokens; with neither, HTTP refuses to
    start."""
    if settings.jwt_jwks_uri:
        from engine.mcpserver.jwt_verifier import ExpiringJWTVerifier  # only production pays for loading it

        if not settings.jwt_issuer or not settings.jwt_audience:
            raise SettingsError("DATAMCP_MCP_JWT_JWKS_URI needs DATAMCP_MCP_JWT_ISSUER and DATAMCP_MCP_JWT_AUDIENCE")
        return ExpiringJWTVerifier(
            jwks_uri=settings.jwt_jwks_uri,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_seconds=settings.jwt_leeway_seconds,
        )
    table = static_tokens(settings)
    if not table:
        raise SettingsError(
            "HTTP needs bearer tokens: set DATAMCP_MCP_TOKENS_FILE or DATAMCP_MCP_TOKENS (or JWT settings)"
        )
    return HashedTokenVerifier(table, settings.jwt_roles_claim)


def static_tokens(settings: McpSettings) -> dict[str, Principal]:
    """The static bearer tokens (by digest) from the token file and the inline JSON."""
    table: dict[str, Principal] = {}
    if settings.tokens_file is not None:
        table.update(load_tokens_file(settings.tokens_file))
    if settings.tokens is not None:
        table.update(load_tokens(settings.tokens.get_secret_value(), "DATAMCP_MCP_TOKENS"))
    return table


def agent_principals(settings: McpSettings) -> frozenset[str]:
    """The principals that call over MCP with static tokens: agents, who never approve in the console."""
    return frozenset(normalize_principal(p.name) for p in static_tokens(settings).values())


def principal_from_token(
    token: AccessToken | None, settings: McpSettings, transport: Transport, local_user: str
) -> Principal | None:
    """The caller: from the bearer token over HTTP, the local OS user over stdio (and the in-memory transport)."""
    if token is not None:
        claims = token.claims or {}
        roles = claims.get(settings.jwt_roles_claim) or []  # only our claim grants roles
        if isinstance(roles, str):
            roles = roles.split()
        known = [r for r in roles if r in ROLES] if isinstance(roles, list) else []
        name = principal_name(token)
        return Principal(name=name, roles=known) if known and name else None
    if transport == "http":
        return None
    return Principal(name=local_user, roles=settings.stdio_roles)


def token_subject(token: AccessToken) -> str:
    return str((token.claims or {}).get("sub") or token.client_id)


def principal_name(token: AccessToken) -> str | None:
    """The principal a token stands for (`sub`, else the client id), or None when that is no usable name (the JWT
    verifier refuses such tokens; a bad name is the client's mistake, never a traceback)."""
    name = token_subject(token)
    try:
        return Principal(name=name, roles=["viewer"]).name
    except ValidationError:
        return None


def check_stdio_roles(settings: McpSettings) -> None:
    """Unknown local roles are an error at start-up, not a silent loss of rights."""
    for role in settings.stdio_roles:
        if role not in ROLES:
            raise SettingsError(f"DATAMCP_MCP_STDIO_ROLES: unknown role {role!r}; roles are {', '.join(ROLES)}")
