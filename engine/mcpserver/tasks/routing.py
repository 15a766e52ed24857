"""The routing header of tasks/* over Streamable HTTP: the client names the task in `Mcp-Name` as well as in the
body (SEP-2663) so that intermediaries route on it; a header that names another task, or none, is refused as the
SDK refuses a mismatched tools/call, so that what a proxy routed or allowed is what the server answers."""

from __future__ import annotations

from typing import Any

from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp.shared.inbound import MCP_NAME_HEADER, decode_header_value
from mcp_types.jsonrpc import HEADER_MISMATCH


def check_routed(ctx: ServerRequestContext[Any, Any], task_id: str) -> None:
    """Over HTTP (a request with headers) the Mcp-Name header must equal the body's taskId; stdio has no headers."""
    headers = getattr(ctx.request, "headers", None)
    if headers is None:
        return
    if decode_header_value(headers.get(MCP_NAME_HEADER)) != task_id:
        raise MCPError(code=HEADER_MISMATCH, message=f"{MCP_NAME_HEADER} header does not match the request's taskId")
