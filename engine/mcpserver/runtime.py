"""What every tool shares, held once: the engine, who is calling, the limits, and running an engine call."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from fastmcp import Context, FastMCP
from fastmcp.exceptions import ToolError
from fastmcp.server.auth import AccessToken
from fastmcp.server.dependencies import get_access_token
from fastmcp.tools import Tool
from fastmcp.utilities.authorization import AuthContext
from fastmcp.utilities.tasks import TaskConfig
from mcp.types import ToolAnnotations

from engine.access import Principal, Role
from engine.errors import DataMcpError, Outcome
from engine.mcpserver.auth import Transport, principal_from_token
from engine.mcpserver.limits import CLIENT_ERROR, CliSlots, RateLimit
from engine.mcpserver.progress import ProgressBridge
from engine.mcpserver.settings import McpSettings
from engine.mcpserver.tasks.context import TASK_TOOLS, TaskHandle, current_task
from engine.operations import Engine
from engine.settings import Settings

T = TypeVar("T")
CANCEL_GRACE_SECONDS = 300  # how long a cancelled request waits for its engine operation to stop


@dataclass(frozen=True)
class Call:
    """One engine operation on behalf of a caller: who asked, its operation id, where its progress goes."""

    principal: Principal
    id: str
    progress: ProgressBridge | TaskHandle | None

    @property
    def user(self) -> str:
        return self.principal.name


class ToolRuntime:
    """The preamble of every tool (who calls, rate limits, a CLI slot, operation id, progress) and the bridge from
    async tools to the blocking engine, in one place so that tool bodies only say which engine call they make."""

    def __init__(self, engine: Engine, settings: Settings, mcp_settings: McpSettings, transport: Transport) -> None:
        self.engine = engine
        self.settings = settings
        self.mcp_settings = mcp_settings
        self.transport = transport
        self.operations_limit = RateLimit(
            mcp_settings.rate_limit_per_minute,
            "previews, applies and drift checks",
            "DATAMCP_MCP_RATE_LIMIT_PER_MINUTE",
        )
        self.reads_limit = RateLimit(
            mcp_settings.read_rate_limit_per_minute, "synths and stack reads", "DATAMCP_MCP_READ_RATE_LIMIT_PER_MINUTE"
        )
        self.slots = CliSlots(mcp_settings.max_concurrent_cli, mcp_settings.cli_wait_seconds)
        self.roles: dict[str, Role] = {}  # tool name -> the role it needs
        self.console_url: str | None = None  # the approval console's base URL, when the server serves one

    def add_tool(self, mcp: FastMCP, fn: Callable[..., object], annotations: ToolAnnotations, role: Role) -> None:
        """Register a tool that needs `role`: neither listed to nor run for callers without it. The long ones may
        run as MCP tasks (advertised as `execution.taskSupport: optional`)."""
        config = TaskConfig(mode="optional" if getattr(fn, "__name__", "") in TASK_TOOLS else "forbidden")
        tool = Tool.from_function(fn, annotations=annotations, auth=self.needs(role), task=config)
        self.roles[tool.name] = role
        mcp.add_tool(tool)

    def principal(self, token: AccessToken | None) -> Principal | None:
        return principal_from_token(token, self.mcp_settings, self.transport, self.settings.default_user)

    def can_request(self) -> bool:
        """Whether the caller has request_apply (an operator on a server that is not read-only)."""
        principal = self.principal(get_access_token())
        return principal is not None and principal.has("operator") and not self.mcp_settings.read_only

    def caller(self) -> Principal:
        """The principal of the current request (or of the task it started), or a refusal."""
        task = current_task()
        if task is not None:
            return task.principal
        principal = self.principal(get_access_token())
        if principal is None:
            raise ToolError("no valid credentials with a known role", log_level=logging.WARNING)
        return principal

    def needs(self, role: Role) -> Callable[[AuthContext], bool]:
        """An auth check: tools a caller may not use are neither listed to it nor run."""

        def check(ctx: AuthContext) -> bool:
            principal = self.principal(ctx.token)
            return principal is not None and principal.has(role)

        return check

    async def run(self, fn: Callable[[], T], *, call: Call | None = None, cli: bool = False) -> T:
        """Run a blocking engine call in a thread (in a CLI slot when it runs the CLI or a synth worker); a cancelled
        request cancels the engine operation too, and engine errors become tool errors that start with their code
        (the caller's errors logged as one line)."""
        future = await self.slots.start(fn) if cli else asyncio.get_running_loop().run_in_executor(None, fn)
        progress = call.progress if call is not None else None
        async with progress.sending() if progress is not None else contextlib.nullcontext():
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                if call is not None:
                    self.engine.request_cancel(call.id)
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(asyncio.shield(future), timeout=CANCEL_GRACE_SECONDS)
                raise
            except DataMcpError as exc:
                level = logging.ERROR if exc.outcome is Outcome.FAILED else CLIENT_ERROR
                raise ToolError(f"{exc.code}: {exc.message}", log_level=level) from None

    async def as_caller(self, fn: Callable[[Principal], T]) -> T:
        """An engine call that needs to know who asks but starts no operation of its own."""
        principal = self.caller()
        return await self.run(lambda: fn(principal))

    async def cli_read(self, fn: Callable[[], T]) -> T:
        """A read that runs the CLI or a synth worker: the caller, the reads rate limit, a CLI slot."""
        self.reads_limit.check(self.caller())
        return await self.run(fn, cli=True)

    async def state_read(self, fn: Callable[[], T]) -> T:
        """A read of a stack's state: from a file backend it needs no CLI (and never waits behind operations for
        a CLI slot); other backends ask the CLI."""
        if self.engine.queries.state_files is None:
            return await self.cli_read(fn)
        self.reads_limit.check(self.caller())
        return await self.run(fn)

    async def operation(self, fn: Callable[[Call], T], ctx: Context | None = None) -> T:
        """An engine operation: the caller, the operations rate limit, a CLI slot, a fresh operation id that a
        cancelled request cancels, and progress: into the task record when it runs as a task, else notifications
        when the client's context is given."""
        principal = self.caller()
        self.operations_limit.check(principal)
        task = current_task()
        progress = task if task is not None else ProgressBridge(ctx) if ctx is not None else None
        call = Call(principal, str(uuid.uuid4()), progress)
        if task is not None:
            task.bind_operation(call.id)  # tasks/cancel from another process stops it through the engine
        return await self.run(lambda: fn(call), call=call, cli=True)
