"""The MCP server's own settings, read once from `DATAMCP_MCP_*` variables (the engine never sees them)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    rate_limit_per_minute: int = Field(
        default=30, ge=1, le=10_000, description="previews, applies, destroys and drift checks per principal."
    )
    read_rate_limit_per_minute: int = Field(
        default=60, ge=1, le=10_000, description="synth, describe_stack, get_outputs, check_toolchain per principal."
    )
    max_concurrent_cli: int = Field(
        default_factory=lambda: max(2, os.cpu_count() or 2),
        ge=1,
        le=1024,
        description="CLI processes and synth workers running at once for all callers.",
    )
    cli_wait_seconds: float = Field(default=10.0, ge=0, le=600, description="How long a call waits for a CLI slot.")
    max_request_bytes: int = Field(default=65_536, ge=1024, le=10 * 1024 * 1024)
    allowed_hosts: Annotated[list[str] | None, NoDecode] = Field(
        default=None, description="Host header values served; default: the loopback names with the port."
    )
    allowed_origins: Annotated[list[str] | None, NoDecode] = Field(
        default=None, description="Browser origins served; default: the allowed hosts over http and https."
    )
    jwt_leeway_seconds: int = Field(default=60, ge=0, le=600, description="Clock skew allowed for nbf and iat.")

    @field_validator("allowed_hosts", "allowed_origins", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        """Comma-separated or a JSON list; names compare without case; an empty list would refuse every request."""
        if isinstance(value, str):
            value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
        if value is None:
            return None
        names = [str(v).strip().lower().rstrip("/") for v in value if str(v).strip()]
        if not names:
            raise ValueError("name at least one, or leave it unset for the loopback defaults")
        return names


def load_mcp_settings(**overrides: Any) -> McpSettings:
    """Read the MCP settings from the environment (plus explicit overrides); bad values are one typed error."""
    try:
        return McpSettings(**overrides)
    except ValidationError as exc:
        raise settings_error(exc, ENV_PREFIX) from None
