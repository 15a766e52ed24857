"""Settings read once from `DATAMCP_*` variables, with embedded defaults for a checkout (no cloud)."""

from __future__ import annotations

import getpass
import hashlib
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engine.errors import InvalidIdentity, SettingsError
from engine.identity import normalize_principal

# Used only with a local file backend, where state never leaves the machine. It is not a secret and
# must never protect a shared backend: settings refuse it with any other backend.
DEV_PASSPHRASE = "datamcp-dev-only-passphrase-not-a-secret"  # noqa: S105

BACKEND_SCHEMES = ("file", "s3", "gs", "azblob", "https")
AUDIT_SCHEMES = ("sqlite", "dynamodb", "postgresql", "postgres")
SECRETS_PROVIDER_PREFIXES = ("awskms://", "gcpkms://", "azurekeyvault://", "hashivault://")


def default_project_root() -> Path:
    """The checkout holding Pulumi.yaml: the parent of this package when installed editable, else the cwd."""
    here = Path(__file__).resolve().parents[1]
    return here if (here / "Pulumi.yaml").is_file() else Path.cwd()


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def default_anchor(audit_url: str) -> str:
    """A file outside the state dir, per audit store, in this user's state folder (~/.local/state)."""
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    digest = hashlib.sha256(audit_url.encode()).hexdigest()[:16]
    return (base / "datamcp" / "anchors" / f"{digest}.json").as_uri()


def _under_state(name: str) -> Any:
    """A default beneath the state dir (once the fields before it validated; otherwise validation failed anyway)."""
    return lambda data: Path(data.get("state_dir") or Path.cwd()) / name


class Settings(BaseSettings):
    """Everything the engine needs from its environment; every derived path is filled in (none is optional)."""

    model_config = SettingsConfigDict(
        env_prefix="DATAMCP_", extra="ignore", validate_default=True, env_ignore_empty=True, populate_by_name=True
    )

    project_root: Path = Field(default_factory=default_project_root)
    state_dir: Path = Field(
        default_factory=lambda data: Path(data.get("project_root") or Path.cwd()) / ".state",
        description="Local state: file backend, audit DB, PULUMI_HOME.",
    )
    backend_url: str = Field(
        default_factory=lambda data: _under_state("backend")(data).as_uri(),
        description="Pulumi state backend: file://, s3://, gs://, ...",
    )
    store_url: str = Field(
        default="",
        description="The shared store of many hosts (postgresql://USER@HOST:PORT/DB); empty: files in the state dir.",
    )
    lease_seconds: float = Field(
        default=30, ge=2, le=600, description="With the shared store: how long a stack lease outlives its last renewal."
    )
    audit_url: str = Field(
        default_factory=lambda data: (
            data.get("store_url") or "sqlite:///" + str(_under_state("audit.db")(data)).lstrip("/")
        ),
        description="Audit store: sqlite:///path, postgresql://user@host:port/db or dynamodb://table?region= "
        "(default: the shared store when one is set)",
    )
    audit_anchor_url: str = Field(
        default_factory=lambda data: default_anchor(str(data.get("audit_url", ""))),
        description="Where the latest signed audit checkpoint is also kept: file://, s3://BUCKET/KEY, dynamodb://.",
    )
    notary_key_file: Path | None = Field(
        default=None, description="Key that signs audit checkpoints (default: the server key, else state/notary.key)."
    )
    secrets_provider: str = Field(default="passphrase", description="passphrase, awskms://, gcpkms://, ...")
    config_passphrase: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("config_passphrase", "DATAMCP_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE"),
        description="Passphrase for the passphrase provider (DATAMCP_CONFIG_PASSPHRASE wins over Pulumi's).",
    )
    pulumi_home: Path = Field(default_factory=_under_state("pulumi-home"))
    tools_dir: Path = Field(
        default_factory=lambda data: Path(data.get("project_root") or Path.cwd()) / ".tools" / "bin",
        description="Where the built pulumi/helm/actionlint live.",
    )
    default_user: str = Field(default_factory=_default_user)
    sandbox: bool = Field(
        default_factory=lambda data: str(data.get("backend_url", "")).startswith("file://"),
        description="Run against the simulated cloud (default: with a local backend).",
    )
    kubeconfig: Path | None = Field(
        default=None,
        description="A real cluster's kubeconfig for the Kubernetes stacks (k8s-local): with the sandbox on, their "
        "kubernetes provider is then the real one, pointed at it, while aws and gcp stay simulated.",
    )
    sandbox_dir: Path = Field(
        default_factory=_under_state("sandbox"), description="The simulated cloud's inventory and launchers."
    )
    approval_mode: Literal["dev", "signed"] = Field(
        default_factory=lambda data: "dev" if str(data.get("backend_url", "")).startswith("file://") else "signed",
        description="dev: a local key signs approvals (not a trust boundary); signed: proven approvers only.",
    )
    approvers_file: Path = Field(
        default_factory=lambda data: Path(data.get("project_root") or Path.cwd()) / "approvers.yaml",
        description="The trust list: who may approve which stacks, with which SSH keys (reviewed like code).",
    )
    policy_dir: Path = Field(
        default_factory=lambda data: Path(data.get("project_root") or Path.cwd()) / "policies",
        description="The Rego policy pack every preview is checked against (reviewed like code, docs/policy.md).",
    )
    server_key_file: Path | None = Field(default=None, description="The server's Ed25519 key (0600, its own user).")
    server_key: SecretStr | None = Field(default=None, description="The same key from a secret manager (PEM).")
    approval_key: SecretStr | None = Field(default=None, description="HMAC key for dev-mode approvals only.")
    preview_ttl_seconds: int = Field(
        default=3600, ge=60, le=7 * 86400, description="How long a preview can be applied."
    )
    approval_ttl_seconds: int = Field(default=3600, ge=60, le=7 * 86400, description="How long an approval is valid.")
    lock_wait_seconds: float = Field(default=0, ge=0, le=3600, description="Wait this long for a busy stack (0: fail).")

    @field_validator(
        "project_root",
        "state_dir",
        "pulumi_home",
        "tools_dir",
        "sandbox_dir",
        "approvers_file",
        "policy_dir",
        "kubeconfig",
    )
    @classmethod
    def _absolute(cls, value: Path | None) -> Path | None:
        return value.expanduser().resolve() if value is not None else None

    @field_validator("backend_url")
    @classmethod
    def _backend(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in BACKEND_SCHEMES:
            raise ValueError(f"backend_url must start with one of {', '.join(s + '://' for s in BACKEND_SCHEMES)}")
        if parsed.scheme == "file" and (parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/")):
            raise ValueError("a file:// backend_url needs an absolute path, e.g. file:///srv/pulumi-state")
        if parsed.scheme in ("s3", "gs", "azblob") and not parsed.netloc:
            raise ValueError(f"a {parsed.scheme}:// backend_url needs a bucket name")
        return value

    @field_validator("store_url")
    @classmethod
    def _store(cls, value: str) -> str:
        if value and urlparse(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("store_url must be empty (files under the state dir) or postgresql://USER@HOST:PORT/DB")
        return value

    @field_validator("audit_url")
    @classmethod
    def _audit(cls, value: str) -> str:
        parsed = urlparse(value)
        if parsed.scheme not in AUDIT_SCHEMES:
            raise ValueError(
                "audit_url must be sqlite:///ABSOLUTE/PATH, postgresql://USER@HOST:PORT/DB or dynamodb://TABLE?region="
            )
        if parsed.scheme == "sqlite" and not parsed.path.startswith("/"):
            raise ValueError("a sqlite audit_url needs an absolute path: sqlite:///ABSOLUTE/PATH")
        if parsed.scheme == "dynamodb" and not parsed.netloc:
            raise ValueError("a dynamodb audit_url needs a table name: dynamodb://TABLE?region=REGION")
        return value

    @field_validator("secrets_provider")
    @classmethod
    def _secrets_provider(cls, value: str) -> str:
        if value in ("passphrase", "default") or value.startswith(SECRETS_PROVIDER_PREFIXES):
            return value
        raise ValueError(
            "secrets_provider must be 'passphrase', 'default' or a awskms://, gcpkms://, "
            "azurekeyvault:// or hashivault:// key URL"
        )

    @field_validator("default_user")
    @classmethod
    def _user(cls, value: str) -> str:
        try:
            return normalize_principal(value)  # the same identity rules as every other principal
        except InvalidIdentity as exc:
            raise ValueError(exc.message) from None

    @model_validator(mode="after")
    def _passphrase(self) -> Settings:
        """The dev passphrase only ever protects a local file backend."""
        local = self.is_local_backend
        if self.approval_mode == "dev" and not local:
            raise ValueError(
                "DATAMCP_APPROVAL_MODE=dev is not a trust boundary and may only be used with a file:// backend; "
                "use signed approvals (DATAMCP_APPROVERS_FILE, DATAMCP_SERVER_KEY_FILE) for a shared backend"
            )
        if self.secrets_provider == "passphrase":
            if self.config_passphrase is None:
                if not local:
                    raise ValueError(
                        "DATAMCP_BACKEND_URL is shared: set DATAMCP_CONFIG_PASSPHRASE or a KMS DATAMCP_SECRETS_PROVIDER"
                    )
                self.config_passphrase = SecretStr(DEV_PASSPHRASE)
            elif self.config_passphrase.get_secret_value() == DEV_PASSPHRASE and not local:
                raise ValueError(
                    "DATAMCP_CONFIG_PASSPHRASE: the dev-only passphrase may only protect a file:// backend"
                )
        return self

    @property
    def is_local_backend(self) -> bool:
        return self.backend_url.startswith("file://")

    @property
    def backend_path(self) -> Path | None:
        """The directory of a file:// backend, or None for a remote one."""
        return Path(urlparse(self.backend_url).path) if self.is_local_backend else None


def settings_error(exc: ValidationError, prefix: str = "DATAMCP_") -> SettingsError:
    """One typed error for a settings validation failure, naming each variable that holds a bad value."""
    problems = "; ".join(
        (f"{prefix}{'_'.join(str(p) for p in err['loc']).upper()}: " if err["loc"] else "")
        + err["msg"].removeprefix("Value error, ")
        for err in exc.errors()
    )
    return SettingsError(f"invalid settings: {problems}")


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment (plus explicit overrides), turning validation errors into one typed error."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise settings_error(exc) from None
