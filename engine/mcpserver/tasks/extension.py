"""The tasks extension on the server: a client that opts in (per request, SEP-2133) gets a task handle from
`preview`, `apply`, `check_drift` and `destroy` at once, and follows it with tasks/get, tasks/update and
tasks/cancel. Other clients and other tools keep blocking calls with progress notifications."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastmcp import Context
from fastmcp.server.extensions import MethodBinding, ServerExtension, ToolCallContinuation, ToolCallOutcome
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolRequestParams
from mcp_types.jsonrpc import MISSING_REQUIRED_CLIENT_CAPABILITY
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from engine.mcpserver.runtime import ToolRuntime
from engine.mcpserver.tasks.admission import Admission
from engine.mcpserver.tasks.context import TASK_TOOLS
from engine.mcpserver.tasks.routing import check_routed
from engine.mcpserver.tasks.runner import POLL_MS, TaskRunner
from engine.mcpserver.tasks.wire import (
    TASKS_EXTENSION,
    Acknowledged,
    CreateTaskResult,
    GetTaskResult,
    TaskParams,
    UpdateParams,
    detailed,
    fields,
)

MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)


class EngineTasks(ServerExtension):
    identifier = TASKS_EXTENSION

    def __init__(self, runtime: ToolRuntime) -> None:
        self.runtime = runtime
        self.runner = TaskRunner(runtime.engine, Admission(runtime.mcp_settings.rate_limit_per_minute))

    def methods(self) -> Sequence[MethodBinding]:
        return [
            MethodBinding("tasks/get", TaskParams, self._get, MODERN),
            MethodBinding("tasks/update", UpdateParams, self._update, MODERN),
            MethodBinding("tasks/cancel", TaskParams, self._cancel, MODERN),
        ]

    async def intercept_tool_call(
        self, params: CallToolRequestParams, context: Context, call_next: ToolCallContinuation
    ) -> ToolCallOutcome:
        """A task when the tool runs long and the client opted in for this request; else the blocking call."""
        rc = context.request_context
        opted_in = (
            rc is not None and rc.protocol_version in MODERN and context.client_extension_settings(TASKS_EXTENSION)
        )
        if params.name not in TASK_TOOLS or opted_in is None or opted_in is False:
            return await call_next()
        record = self.runner.start(params.name, self.runtime.caller(), call_next)
        return CreateTaskResult(**fields(record, POLL_MS))

    def _admit(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> None:
        """tasks/* declare the extension, and over HTTP are routed to the task they name."""
        if self.client_settings(ctx) is None:
            raise MCPError(
                code=MISSING_REQUIRED_CLIENT_CAPABILITY,
                message=f"tasks/* requests must declare the {TASKS_EXTENSION} extension in their _meta",
                data={"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}},
            )
        check_routed(ctx, params.task_id)

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> GetTaskResult:
        self._admit(ctx, params)
        return detailed(self.runner.get(params.task_id, self.runtime.caller()), POLL_MS)

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: UpdateParams) -> Acknowledged:
        self._admit(ctx, params)
        self.runner.answered(params.task_id, self.runtime.caller(), params.input_responses)
        return Acknowledged()

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskParams) -> Acknowledged:
        self._admit(ctx, params)
        self.runner.cancel(params.task_id, self.runtime.caller())
        return Acknowledged()


def opted_in(context: Context) -> bool:
    """The extension exists only on the modern protocol, opted in per request in the request's _meta."""
    rc = context.request_context
    modern = rc is not None and rc.protocol_version in MODERN
    return modern and context.client_extension_settings(TASKS_EXTENSION) is not None
