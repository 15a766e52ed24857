"""Every MCP request passes here: tools a caller may not use are neither listed nor run (on every transport, and
refusals of changing tools are logged), and no error or log line repeats more than about 100 characters of what a
caller sent."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastmcp.exceptions import FastMCPError, PromptError, ResourceError, ToolError
from fastmcp.exceptions import ValidationError as ArgumentsInvalid
from fastmcp.server.dependencies import get_access_token
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from fastmcp.tools import Tool
from mcp.shared.exceptions import MCPError
from pydantic import ValidationError

from engine.mcpserver.auth import token_subject
from engine.mcpserver.limits import CLIENT_ERROR
from engine.mcpserver.runtime import ToolRuntime
from engine.vocabulary import ECHO_LIMIT, echo

LINE_LIMIT = 160  # a validation error's line longer than this holds a caller's value: cut to ECHO_LIMIT
MAX_LINES = 30
FASTMCP_LOGGER = "fastmcp.server.server"  # where FastMCP logs failed tool calls and resource reads
log = logging.getLogger(__name__)


def bounded(text: str) -> str:
    """A validation error's text with each overlong line (a caller's argument name or value) cut short."""
    lines = [line if len(line) <= LINE_LIMIT else line[: ECHO_LIMIT - 3] + "..." for line in text.splitlines()]
    more = len(lines) - MAX_LINES
    return "\n".join(lines[:MAX_LINES] + ([f"... ({more} more lines)"] if more > 0 else []))


class Gate(Middleware):
    """The server's own checks around FastMCP's: FastMCP skips tool auth over stdio and repeats unknown names in
    full, so roles are checked and names echoed here, once for all transports."""

    def __init__(self, runtime: ToolRuntime) -> None:
        self.rt = runtime

    async def on_request(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        """Protocol errors (an unknown method, say) repeat the caller's value as their data: cut it short."""
        try:
            return await call_next(context)
        except MCPError as exc:
            data = exc.data if exc.data is None or len(str(exc.data)) <= ECHO_LIMIT else echo(exc.data)
            if data is exc.data and len(exc.message) <= LINE_LIMIT:
                raise
            raise MCPError(code=exc.code, message=bounded(exc.message), data=data) from None

    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Sequence[Tool]]) -> Any:
        principal = self.rt.principal(get_access_token())
        tools = await call_next(context)
        return [t for t in tools if principal is not None and principal.has(self.rt.roles.get(t.name, "admin"))]

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        self.admit(context.message.name)
        try:
            return await call_next(context)
        except (ArgumentsInvalid, ValidationError) as exc:
            raise ToolError(bounded(str(exc)), log_level=CLIENT_ERROR) from None

    async def on_read_resource(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        if len(str(context.message.uri)) > ECHO_LIMIT:
            raise ResourceError(f"unknown resource {echo(str(context.message.uri))}", log_level=CLIENT_ERROR)
        return await call_next(context)

    async def on_get_prompt(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        if len(context.message.name) > ECHO_LIMIT:
            raise PromptError(f"unknown prompt {echo(context.message.name)}", log_level=CLIENT_ERROR)
        return await call_next(context)

    def admit(self, tool: str) -> None:
        """Refuse a tool the caller may not use as if it did not exist; a refused changing tool is logged as a
        warning (who, which tool, which role it needs), a refused read at info."""
        role = self.rt.roles.get(tool)
        token = get_access_token()
        principal = self.rt.principal(token)
        if role is not None and principal is not None and principal.has(role):
            return
        if role is not None:
            who = (
                f"{principal.name} ({', '.join(principal.roles)})"
                if principal is not None
                else f"a token for {echo(token_subject(token)) if token else 'nobody'} with no known role"
            )
            level = logging.INFO if role == "viewer" else logging.WARNING
            log.log(level, "refused: %s called %s, which needs the %s role", who, tool, role)
        raise ToolError(f"unknown tool {echo(tool)}: call list_tools for the tools you may use", log_level=CLIENT_ERROR)


class NoClientTracebacks(logging.Filter):
    """FastMCP logs a failed resource read with its traceback whatever the cause; a client's error (raised with a
    level below WARNING) keeps its one line and loses the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, FastMCPError) and error.log_level < logging.WARNING:
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_client_errors() -> None:
    """Install the filter once per process on FastMCP's server logger."""
    logger = logging.getLogger(FASTMCP_LOGGER)
    if not any(isinstance(f, NoClientTracebacks) for f in logger.filters):
        logger.addFilter(NoClientTracebacks())
