"""The streamable-HTTP side: the ASGI app at /mcp behind a request-size limit, and the health probe."""

from __future__ import annotations

from typing import Any

from fastmcp import FastMCP
from starlette.requests import Request
from starlette.responses import JSONResponse

from engine import __version__

MCP_PATH = "/mcp"


class SizeLimited:
    """Refuses requests whose declared body is larger than `limit` (413) before they reach the server."""

    def __init__(self, inner: Any, limit: int) -> None:
        self.inner = inner
        self.limit = limit

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            size = dict(scope.get("headers") or []).get(b"content-length")
            if size is not None and int(size) > self.limit:
                await JSONResponse({"error": f"request larger than {self.limit} bytes"}, status_code=413)(
                    scope, receive, send
                )
                return
        await self.inner(scope, receive, send)


async def healthz(request: Request) -> JSONResponse:
    """For probes: answers without a token."""
    return JSONResponse({"status": "ok", "version": __version__})


def add_health_route(mcp: FastMCP) -> None:
    mcp.custom_route("/healthz", methods=["GET"])(healthz)


def asgi_app(mcp: FastMCP, max_request_bytes: int) -> SizeLimited:
    """The server's streamable-HTTP app at /mcp with the size limit in front."""
    return SizeLimited(mcp.http_app(path=MCP_PATH), max_request_bytes)
