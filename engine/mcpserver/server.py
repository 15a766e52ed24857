"""Building the server: one engine and one tool runtime, the tool groups registered per settings and transport."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from fastmcp import FastMCP

from engine import __version__
from engine.catalog import load_programs
from engine.console.settings import ConsoleSettings, load_console_settings
from engine.mcpserver import tools_admin, tools_change, tools_read
from engine.mcpserver.auth import Transport, agent_principals, auth_provider, check_stdio_roles
from engine.mcpserver.gate import Gate, quiet_client_errors
from engine.mcpserver.http import add_health_routes, asgi_app
from engine.mcpserver.runtime import ToolRuntime
from engine.mcpserver.settings import McpSettings, load_mcp_settings
from engine.mcpserver.tasks.extension import EngineTasks
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
    console = load_console_settings()
    if console.enabled and (transport == "http" or console.public_url):  # stdio: a console served elsewhere
        runtime.console_url = f"{console_base(console, mcp_settings)}/console"
    mcp = FastMCP("datamcp", instructions=INSTRUCTIONS, version=__version__, auth=auth, mask_error_details=True)
    mcp.add_middleware(Gate(runtime))
    quiet_client_errors()
    for group in (tools_read, tools_change, tools_admin):
        group.register(mcp, runtime)
    mcp.add_extension(EngineTasks(runtime))
    add_health_routes(mcp, runtime.engine)
    return mcp


async def warm_up(server: FastMCP) -> None:
    """Pay first-use costs before the first request does: FastMCP's session state store builds its validators on
    first use (about 250 ms on this machine), which every session's first `tools/list` reads. Then everything
    loaded so far (the cloud SDKs, the stacks: ~150,000 objects) leaves the garbage collector's sight: a full
    collection walked them all, ~80 ms that landed on whichever request was running. The registry imports a stack's
    program only when it is built, so every program (and the SDKs it uses) is loaded here first."""
    await server._state_store.get(key="datamcp:warm-up")  # no public way to touch the store
    load_programs()
    gc.collect()
    gc.freeze()


class ServerLifespan:
    """The app's ASGI lifespan, extended: the server is warmed up before start-up completes, and once the app has
    shut down the synth worker processes stop too. Uvicorn runs the lifespan's shutdown on SIGTERM or SIGINT before
    the process ends, so no worker outlives the server."""

    def __init__(self, inner: Any, server: FastMCP) -> None:
        self.inner = inner
        self.server = server

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await self.inner(scope, receive, send)
            return

        async def send_around_lifespan(message: Any) -> None:
            if message["type"] == "lifespan.startup.complete":
                await warm_up(self.server)
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await asyncio.to_thread(shutdown_workers)
            await send(message)

        await self.inner(scope, receive, send_around_lifespan)


def http_app(
    settings: Settings, mcp_settings: McpSettings | None = None, *, engine: Engine | None = None
) -> ServerLifespan:
    """The streamable-HTTP ASGI app (at /mcp) behind the Host/Origin allowlist and the request-size limit; it warms
    up before serving, and stopping it stops the workers."""
    mcp_settings = mcp_settings or load_mcp_settings()
    engine = engine or Engine(settings)
    server = create_server(settings, mcp_settings, transport="http", engine=engine)
    return ServerLifespan(asgi_app(server, mcp_settings, console_for(engine, mcp_settings)), server)


def console_for(engine: Engine, mcp_settings: McpSettings, console: ConsoleSettings | None = None) -> Any:
    """The approval console at /console (docs/console.md), unless switched off."""
    console = console or load_console_settings()
    if not console.enabled:
        return None
    from engine.console.app import console_app  # only a server with a console loads it

    return console_app(engine, console, console_base(console, mcp_settings), agent_principals(mcp_settings))


def console_base(console: ConsoleSettings, mcp_settings: McpSettings) -> str:
    return (console.public_url or f"http://127.0.0.1:{mcp_settings.port}").rstrip("/")
