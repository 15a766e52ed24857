"""The streamable-HTTP side: the ASGI app at /mcp behind a Host/Origin allowlist and a request-size limit counted on
the stream, and the health probe."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import anyio
from fastmcp import FastMCP
from mcp.server.transport_security import RequestBodyLimitMiddleware
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse

from engine import __version__
from engine.mcpserver.settings import McpSettings
from engine.vocabulary import echo

if TYPE_CHECKING:
    from engine.operations import Engine

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
PROBES = frozenset({HEALTH_PATH, READY_PATH})
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARDS = ("", "0.0.0.0", "::", "[::]")  # noqa: S104 - bind addresses that name no host
log = logging.getLogger(__name__)


def allowed_hosts(settings: McpSettings) -> list[str]:
    """The Host header values served: the configured ones, or the loopback names (and a specific bind address) with
    the server's port; on port 80 also without it, as browsers send it."""
    if settings.allowed_hosts:
        return settings.allowed_hosts
    bind = settings.host.lower()
    names = [*LOOPBACK_NAMES, *([] if bind in WILDCARDS else [f"[{bind}]" if ":" in bind else bind])]
    return [f"{name}:{settings.port}" for name in dict.fromkeys(names)] + (names if settings.port == 80 else [])


def allowed_origins(settings: McpSettings) -> list[str]:
    """The browser origins served: the configured ones, or every allowed host over http and https."""
    return settings.allowed_origins or [
        f"{scheme}://{host}" for host in allowed_hosts(settings) for scheme in ("http", "https")
    ]


class HostOriginGuard:
    """DNS-rebinding protection: a request for a Host name that is not ours, or sent by a browser page from an origin
    that is not ours (`null` included), gets 403 before it reaches auth or MCP. Requests without an Origin header
    (non-browser clients) pass. The probes are exempt: they read nothing, and probes use the pod's address."""

    def __init__(self, inner: Any, hosts: list[str], origins: list[str]) -> None:
        self.inner = inner
        self.hosts = frozenset(hosts)
        self.origins = frozenset(origins)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope.get("path") not in PROBES:
            refusal = self.refusal(Headers(scope=scope))
            if refusal is not None:
                log.info("refused an HTTP request: %s", refusal)
                await JSONResponse({"error": "forbidden", "message": refusal}, status_code=403)(scope, receive, send)
                return
        await self.inner(scope, receive, send)

    def refusal(self, headers: Headers) -> str | None:
        host = headers.get("host", "").strip().lower()
        if host not in self.hosts:
            return f"Host {echo(host)} is not served here (DATAMCP_MCP_ALLOWED_HOSTS)"
        origin = headers.get("origin")
        if origin is not None and origin.strip().lower().rstrip("/") not in self.origins:
            return f"Origin {echo(origin)} is not allowed (DATAMCP_MCP_ALLOWED_ORIGINS)"
        return None


async def healthz(request: Request) -> JSONResponse:
    """For probes: answers without a token."""
    return JSONResponse({"status": "ok", "version": __version__})


def add_health_routes(mcp: FastMCP, engine: Engine) -> None:
    """Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the shared store and the audit store
    answer too, so a replica that lost its database gets no traffic). Neither needs a token or tells more than
    which part is unavailable."""

    async def readyz(request: Request) -> JSONResponse:
        problems = await anyio.to_thread.run_sync(engine.readiness)
        if problems:
            return JSONResponse({"status": "unavailable", **problems}, status_code=503)
        return JSONResponse({"status": "ready", "version": __version__})

    mcp.custom_route(HEALTH_PATH, methods=["GET"])(healthz)
    mcp.custom_route(READY_PATH, methods=["GET"])(readyz)


class PathRouter:
    """Requests under `prefix` go to `app` (the console), everything else to `rest` (MCP, the health probe); the
    lifespan belongs to `rest`."""

    def __init__(self, prefix: str, app: Any, rest: Any) -> None:
        self.prefix = prefix
        self.app = app
        self.rest = rest

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "") if scope["type"] in ("http", "websocket") else ""
        inside = path == self.prefix or path.startswith(self.prefix + "/")
        await (self.app if inside else self.rest)(scope, receive, send)


def asgi_app(mcp: FastMCP, settings: McpSettings, console: Any = None) -> HostOriginGuard:
    """The server's streamable-HTTP app at /mcp (and the console at /console, when given): the Host/Origin allowlist
    first, then the size limit, which counts the body as it arrives (chunked or not, whatever Content-Length claims)
    and answers 413 past the limit. FastMCP's own Host/Origin guard stays off: ours answers 403 and knows the port."""
    app: Any = mcp.http_app(path=MCP_PATH, host_origin_protection=False)
    if console is not None:
        app = PathRouter("/console", console, app)
    limited = RequestBodyLimitMiddleware(app, settings.max_request_bytes)
    return HostOriginGuard(limited, allowed_hosts(settings), allowed_origins(settings))
