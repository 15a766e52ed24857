"""Getting a client connected: dev tokens for the embedded default, and ready-to-paste client configs."""

from __future__ import annotations

import json
import os
import secrets
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from engine.access import Role, token_digest
from engine.console.settings import load_console_settings
from engine.mcpserver.http import MCP_PATH
from engine.mcpserver.settings import McpSettings
from engine.settings import Settings

DEV_ROLES: dict[str, Role] = {"agent": "operator", "viewer": "viewer"}  # principal suffix -> its one role


@dataclass(frozen=True)
class DevToken:
    """One generated local token: who it stands for and what it may do."""

    principal: str
    role: Role
    token: str


def dev_tokens_file(settings: Settings) -> Path:
    """The token table (digests only) that `--dev-tokens` serves with."""
    return settings.state_dir / "mcp-dev-tokens.json"


def plain_tokens_file(settings: Settings) -> Path:
    """The plain dev tokens, readable by this OS user only (mode 0600), so they can be shown again."""
    return settings.state_dir / "mcp-dev-tokens.plain.json"


def dev_tokens(settings: Settings) -> list[DevToken]:
    """For the embedded default: make (once) an operator and a viewer token for the local machine, store only their
    digests in the table the server reads, and return the tokens with their roles as that table grants them."""
    known = _stored_tokens(settings)
    if known:
        return known
    user = settings.default_user
    tokens = [DevToken(f"{user}-{suffix}", role, secrets.token_urlsafe(24)) for suffix, role in DEV_ROLES.items()]
    table = {f"sha256:{token_digest(t.token)}": {"principal": t.principal, "roles": [t.role]} for t in tokens}
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    dev_tokens_file(settings).write_text(json.dumps(table, indent=2))
    _write_private(plain_tokens_file(settings), json.dumps({t.principal: t.token for t in tokens}))
    return tokens


def _stored_tokens(settings: Settings) -> list[DevToken]:
    """The tokens made before, with the role the digest table grants each; empty when either file is missing or
    they no longer agree (then new ones are made)."""
    try:
        plain = json.loads(plain_tokens_file(settings).read_text())
        table = json.loads(dev_tokens_file(settings).read_text())
    except (OSError, ValueError):
        return []
    tokens = []
    for principal, token in plain.items():
        entry = table.get(f"sha256:{token_digest(token)}") or {}
        roles = entry.get("roles") or []
        if entry.get("principal") != principal or len(roles) != 1:
            return []
        tokens.append(DevToken(principal, roles[0], token))
    return tokens


def _write_private(path: Path, text: str) -> None:
    """Write a file only this OS user can read, never readable by others even for a moment."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def connection_help(settings: Settings, mcp_settings: McpSettings, tokens: list[DevToken] | None, python: str) -> str:
    """Where the server keeps its state, client configs for stdio and, with tokens, for this HTTP server."""
    stdio = {
        "command": str(Path(python).with_name("datamcp-mcp")),
        "args": [],
        "env": {"DATAMCP_PROJECT_ROOT": str(settings.project_root), "DATAMCP_STATE_DIR": str(settings.state_dir)},
    }
    lines = [
        f"State dir (DATAMCP_STATE_DIR): {settings.state_dir}",
        "",
        "Connect an MCP client:",
        "",
        "stdio (Claude Desktop, Cursor, ... mcpServers config; same project and state dir as this server):",
        _servers(stdio),
    ]
    if tokens:
        lines += ["", *_http_help(settings, mcp_settings, tokens)]
    lines += _console_help(mcp_settings)
    return "\n".join(lines)


def _console_help(mcp_settings: McpSettings) -> list[str]:
    console = load_console_settings()
    if not console.enabled:
        return []
    base = (console.public_url or f"http://127.0.0.1:{mcp_settings.port}").rstrip("/")
    login = (
        "dev login (the name you type is trusted: a checkout only)"
        if console.dev_login
        else "your identity provider"
        if console.oidc_issuer
        else "no login configured: set DATAMCP_CONSOLE_OIDC_ISSUER or, in a checkout, DATAMCP_CONSOLE_DEV_LOGIN=1"
    )
    return ["", f"Approval console (review and approve previews in a browser): {base}/console  [{login}]"]


def _http_help(settings: Settings, mcp_settings: McpSettings, tokens: list[DevToken]) -> list[str]:
    operator = next((t for t in tokens if t.role != "viewer"), tokens[0])
    http = {
        "url": f"http://{mcp_settings.host}:{mcp_settings.port}{MCP_PATH}",
        "headers": {"Authorization": f"Bearer {operator.token}"},
    }
    width = max(len(t.principal) for t in tokens)
    return [
        f"Dev tokens for this machine (kept in {plain_tokens_file(settings)}, mode 0600, readable by you only):",
        *(f"  {t.principal:<{width}}  role {t.role:<8}  token {t.token}" for t in tokens),
        "",
        f"streamable HTTP (this server), as {operator.principal} ({operator.role}); for a read-only client use the "
        "viewer token instead:",
        _servers(http),
        "",
        'Then ask: "preview the aws-dev stack". Approve what it proposes with '
        f"`DATAMCP_STATE_DIR={shlex.quote(str(settings.state_dir))} datamcp approve <preview_id> --approver <you>`.",
    ]


def _servers(datamcp: Mapping[str, object]) -> str:
    return json.dumps({"mcpServers": {"datamcp": datamcp}}, indent=2)
