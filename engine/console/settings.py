"""The console's own settings, read once from `DATAMCP_CONSOLE_*` variables."""

from __future__ import annotations

from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.settings import settings_error

ENV_PREFIX = "DATAMCP_CONSOLE_"


class ConsoleSettings(BaseSettings):
    """Who may log in (the OIDC issuer and client), how sessions are kept, where the console is reached."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    enabled: bool = Field(default=True, description="Serve /console beside /mcp.")
    oidc_issuer: str | None = Field(default=None, description="The identity provider (discovery at .well-known).")
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = Field(default=None, description="Empty for a public client (PKCE only).")
    oidc_scopes: str = "openid profile"
    roles_claim: str = Field(default="datamcp_roles", description="The ID token claim that lists console roles.")
    session_secret: SecretStr | None = Field(
        default=None, description="Signs session cookies; unset: a new one per start (everyone logs in again)."
    )
    session_max_age_seconds: int = Field(default=8 * 3600, ge=300, le=7 * 86400)
    public_url: str | None = Field(
        default=None, description="The console's base URL as people reach it (default: the server's loopback URL)."
    )
    dev_login: bool = Field(
        default=False, description="A login form that trusts the name typed in: a checkout only, never a server."
    )


def load_console_settings(**overrides: Any) -> ConsoleSettings:
    try:
        return ConsoleSettings(**overrides)
    except ValidationError as exc:
        raise settings_error(exc, ENV_PREFIX) from None
