"""The `datamcp-mcp` command: flags over settings, then stdio or the HTTP server."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from engine.errors import DataMcpError
from engine.mcpserver.connect import DevToken, connection_help, dev_tokens, dev_tokens_file
from engine.mcpserver.server import create_server, http_app
from engine.mcpserver.settings import McpSettings, load_mcp_settings
from engine.settings import Settings, load_settings
from engine.store_files import restrict_umask

EXIT_SETTINGS = 3


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="datamcp-mcp", description="DataMCP's MCP server")
    parser.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--read-only", action="store_true", help="register only the viewer tools")
    parser.add_argument("--dev-tokens", action="store_true", help="HTTP with generated local tokens (embedded)")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        restrict_umask(settings.approval_mode == "signed")
        mcp_settings = load_mcp_settings(**overrides(args))
        if args.transport == "stdio":
            create_server(settings, mcp_settings).run(transport="stdio", show_banner=False)
        else:
            serve_http(settings, mcp_settings, args.dev_tokens)
    except DataMcpError as exc:
        print(f"datamcp-mcp: {exc.message}", file=sys.stderr)
        raise SystemExit(EXIT_SETTINGS) from None


def overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The flags that were given, as MCP settings (they win over the environment)."""
    given = {"host": args.host, "port": args.port, "read_only": args.read_only}
    return {name: value for name, value in given.items() if value}


def serve_http(settings: Settings, mcp_settings: McpSettings, with_dev_tokens: bool) -> None:
    tokens: list[DevToken] | None = None
    if with_dev_tokens:
        tokens = dev_tokens(settings)
        mcp_settings = mcp_settings.model_copy(update={"tokens_file": dev_tokens_file(settings)})
    print(connection_help(settings, mcp_settings, tokens, sys.executable), flush=True)
    import uvicorn

    app = http_app(settings, mcp_settings)
    uvicorn.run(app, host=mcp_settings.host, port=mcp_settings.port, log_level="warning")
