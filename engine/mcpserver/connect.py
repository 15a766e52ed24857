"""Getting a client connected: dev tokens for the embedded default, and ready-to-paste client configs."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from pathlib import Path

from engine.access import token_digest
from engine.mcpserver.http import MCP_PATH
from engine.mcpserver.settings import McpSettings
from engine.settings import Settings


def dev_tokens_file(settings: Settings) -> Path:
    """The token table (digests only) that `--dev-tokens` serves with."""
    return settings.state_dir / "mcp-dev-tokens.json"


def dev_tokens(settings: Settings) -> dict[str, str]:
    """For the embedded default: make (once) an operator and an approver token for the local machine, store only
    their digests, and return the plain tokens to show."""
    plain_path = settings.state_dir / "mcp-dev-tokens.plain.json"
    if plain_path.exists():
        return json.loads(plain_path.read_text())  # type: ignore[no-any-return]
    user = settings.default_user
    tokens = {f"{user}-agent": secrets.token_urlsafe(24), f"{user}-viewer": secrets.token_urlsafe(24)}
    table = {
        f"sha256:{token_digest(tokens[f'{user}-agent'])}": {"principal": f"{user}-agent", "roles": ["operator"]},
        f"sha256:{token_digest(tokens[f'{user}-viewer'])}": {"principal": f"{user}-viewer", "roles": ["viewer"]},
    }
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    dev_tokens_file(settings).write_text(json.dumps(table, indent=2))
    plain_path.write_text(json.dumps(tokens))
    plain_path.chmod(0o600)
    return tokens


def connection_help(settings: Settings, mcp_settings: McpSettings, tokens: dict[str, str] | None, python: str) -> str:
    """Client configs for stdio and, with tokens, for this HTTP server."""
    stdio = {
        "command": str(Path(python).with_name("datamcp-mcp")),
        "args": [],
        "env": {"DATAMCP_PROJECT_ROOT": str(settings.project_root)},
    }
    lines = ["Connect an MCP client:", "", "stdio (Claude Desktop, Cursor, ... mcpServers config):", _servers(stdio)]
    if tokens:
        agent = next(iter(tokens.values()))
        http = {
            "url": f"http://{mcp_settings.host}:{mcp_settings.port}{MCP_PATH}",
            "headers": {"Authorization": f"Bearer {agent}"},
        }
        lines += [
            "",
            "streamable HTTP (this server):",
            _servers(http),
            "",
            'Then ask: "preview the aws-dev stack". Approve what it proposes with '
            "`datamcp approve <preview_id> --approver <you>`.",
        ]
    return "\n".join(lines)


def _servers(datamcp: Mapping[str, object]) -> str:
    return json.dumps({"mcpServers": {"datamcp": datamcp}}, indent=2)
