"""The MCP server's own settings, read once from `DATAMCP_MCP_*` variables (the engine never sees them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.settings import settings_error

ENV_PREFIX = "DATAMCP_MCP_"


class McpSettings(BaseSettings):
    """Where the server listens, who may call it and which tools it offers."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    host: str = Field(default="127.0.0.1", description="HTTP bind address (loopback by default).")
    port: int = Field(default=8000, ge=1, le=65535)
    tokens_file: Path | None = Field(default=None, description="JSON: sha256:<token digest> -> principal, roles.")
    tokens: SecretStr | None = Field(default=None, description="The same JSON inline (e.g. from a Secret).")
    jwt_jwks_uri: str | None = Field(default=None, description="JWT verification for production (with issuer).")
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_roles_claim: str = "datamcp_roles"
    stdio_roles: list[str] = Field(default_factory=lambda: ["operator"], description="Roles of the local user.")
    enable_destroy: bool = Field(default=False, description="Expose destroy (admins only, still approved).")
    read_only: bool = Field(default=False, description="Register only the viewer tools.")
    rate_limit_per_minute: int = Field(default=30, ge=1, le=10_000, description="preview/apply per principal.")
    max_request_bytes: int = Field(default=65_536, ge=1024, le=10 * 1024 * 1024)


def load_mcp_settings(**overrides: Any) -> McpSettings:
    """Read the MCP settings from the environment (plus explicit overrides); bad values are one typed error."""
    try:
        return McpSettings(**overrides)
    except ValidationError as exc:
        raise settings_error(exc, ENV_PREFIX) from None
