"""The console on its own (`python -m engine.console --port 8080`): the same pages and rules as under the MCP server,
for a deployment that serves people apart from agents. It needs the engine's settings (state dir, backend, trust
list, server key) and the console's (docs/console.md)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine.console.app import console_app
from engine.console.settings import load_console_settings
from engine.errors import DataMcpError, ExitCode
from engine.mcpserver.auth import agent_principals
from engine.mcpserver.http import HostOriginGuard, allowed_hosts, allowed_origins
from engine.mcpserver.settings import load_mcp_settings
from engine.operations import Engine
from engine.settings import load_settings


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m engine.console", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
        console = load_console_settings()
        edge = load_mcp_settings(host=args.host, port=args.port)
        public = (console.public_url or f"http://127.0.0.1:{args.port}").rstrip("/")
        app = console_app(Engine(settings), console, public, agent_principals(edge))
    except DataMcpError as exc:
        print(f"datamcp console: {exc.message}", file=sys.stderr)
        raise SystemExit(ExitCode.INVALID) from None
    import uvicorn
    from mcp.server.transport_security import RequestBodyLimitMiddleware

    print(f"Approval console: {public}/console", flush=True)
    limited = RequestBodyLimitMiddleware(app, edge.max_request_bytes)
    guarded = HostOriginGuard(limited, allowed_hosts(edge), allowed_origins(edge))
    uvicorn.run(guarded, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
