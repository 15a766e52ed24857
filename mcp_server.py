"""DataMCP's MCP server: the engine for AI agents, a thin FastMCP adapter (docs/mcp.md).

An agent can look (stacks, outputs, synth, previews, drift, operations) and ask (request_apply); it can never apply a
change on its own: `apply` runs only a preview that another principal approved, and there is no approve tool.

This module is the entry point (`datamcp-mcp`, `python -m mcp_server`); the server lives in `engine/mcpserver/`.
"""

from __future__ import annotations

from engine.mcpserver.auth import HashedTokenVerifier, auth_provider, principal_from_token
from engine.mcpserver.cli import main
from engine.mcpserver.connect import connection_help, dev_tokens
from engine.mcpserver.server import INSTRUCTIONS, create_server, http_app
from engine.mcpserver.settings import McpSettings, load_mcp_settings

__all__ = [
    "INSTRUCTIONS",
    "HashedTokenVerifier",
    "McpSettings",
    "auth_provider",
    "connection_help",
    "create_server",
    "dev_tokens",
    "http_app",
    "load_mcp_settings",
    "main",
    "principal_from_token",
]

if __name__ == "__main__":
    main()
