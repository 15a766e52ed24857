"""Building the server: one engine and one tool runtime, the tool groups registered per settings and transport."""

from __future__ import annotations

import asyncio
from typing import Any

from fastmcp import FastMCP

from engine import __version__
from engine.mcpserver import tools_admin, tools_change, tools_read
from engine.mcpserver.auth import Transport, auth_provider, check_stdio_roles
from engine.mcpserver.gate import Gate, quiet_client_errors
from engine.mcpserver.http import add_health_route, asgi_app
from engine.mcpserver.runtime import ToolRuntime
from engine.mcpserver.settings import McpSettings, load_mcp_settings
from engine.operations import Engine
from engine.settings import Settings, load_settings
from engine.synth import shutdown_workers

INSTRUCTIONS = (
    "DataMCP previews infrastructure changes through Pulumi. You can list and describe stacks, synth their resource "
    "graph offline, preview changes, check drift and read the audit trail. You cannot approve a change: a person "
    "approves each preview. Each preview result ends with a summary that says what your role can do next."
)


def create_server(
    settings: Settings | None = None,
    mcp_settings: McpSettings | None = None,
    *,
    transport: Transport = "stdio",
    engine: Engine | None = None,
) -> FastMCP:
    """Build the server: tools registered per the settings (read-only mode, destroy), bound to one engine."""
    settings = settings or load_settings()
    mcp_settings = mcp_settings or load_mcp_settings()
    check_stdio_roles(mcp_settings)
    auth = auth_provider(mcp_settings) if transport == "http" else None
    runtime = ToolRuntime(engine or Engine(settings), settings, mcp_settings, transport)
    mcp = FastMCP("datamcp", instructions=INSTRUCTIONS, version=__version__, auth=auth, mask_error_details=True)
    mcp.add_middleware(Gate(runtime))
    quiet_client_errors()
    for group in (tools_read, tools_change, tools_admin):
        group.register(mcp, runtime)
    add_health_route(mcp)
    return mcp


class StopsWorkers:
    """The app's ASGI lifespan, extended: once the app has shut down, the synth worker processes stop too. Uvicorn
    runs the lifespan's shutdown on SIGTERM or SIGINT before the process ends, so no worker outlives the server."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.inner(scope, receive, send)
            return

        async def send_after_stopping_workers(message: Any) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await asyncio.to_thread(shutdown_workers)
            await send(message)

        await self.inner(scope, receive, send_after_stopping_workers)


def http_app(
    settings: Settings, mcp_settings: McpSettings | None = None, *, engine: Engine | None = None
) -> StopsWorkers:
    """The streamable-HTTP ASGI app (at /mcp) behind the Host/Origin allowlist and the request-size limit; stopping it
    stops the workers."""
    mcp_settings = mcp_settings or load_mcp_settings()
    server = create_server(settings, mcp_settings, transport="http", engine=engine)
    return StopsWorkers(asgi_app(server, mcp_settings))
