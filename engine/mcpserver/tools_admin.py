"""Tools that look after operations and the service: cancel a run, destroy a stack (admins), check the toolchain."""

from __future__ import annotations

from typing import Any

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations

from engine.doctor import run_checks
from engine.mcpserver.arguments import Stack
from engine.mcpserver.presenting import toolchain_report
from engine.mcpserver.runtime import Call, ToolRuntime
from engine.mcpserver.tasks.approval_wait import wait_for_approval
from engine.mcpserver.tasks.context import current_task
from engine.mcpserver.tools_change import CHANGES_INFRASTRUCTURE
from engine.mcpserver.tools_read import READ_ONLY
from engine.results import ApplyResult
from engine.vocabulary import Id, Kind

STOPS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False)


class AdminTools:
    """Bound methods registered as tools."""

    def __init__(self, runtime: ToolRuntime) -> None:
        self.rt = runtime
        self.engine = runtime.engine

    async def cancel_operation(self, operation_id: Id) -> dict[str, Any]:
        """Stop a running operation gracefully (your own; admins may stop any)."""
        record = await self.rt.as_caller(
            lambda principal: self.engine.cancel(operation_id, user=principal.name, admin=principal.has("admin"))
        )
        return {"operation_id": record.id, "status": "cancelling"}

    async def destroy(self, stack: Stack, ctx: Context, preview_id: Id | None = None) -> dict[str, Any]:
        """Destroy a stack, in two steps like every change: without preview_id it returns a destroy preview
        (nothing changes); with the preview_id of an approved destroy preview it destroys. Protected
        resources stay. Run as a task, a destroy of a preview waits for its approval (status input_required)."""
        task = current_task()
        if preview_id is not None and task is not None:
            await wait_for_approval(self.rt, task, preview_id)

        def run(call: Call) -> ApplyResult:
            if preview_id is None:
                return self.engine.destroy(stack, user=call.user, on_progress=call.progress, operation_id=call.id)
            return self.engine.apply_preview(
                preview_id, user=call.user, kind=Kind.DESTROY, on_progress=call.progress, operation_id=call.id
            )

        return (await self.rt.operation(run, ctx)).model_dump()

    async def check_toolchain(self) -> dict[str, Any]:
        """Whether the pieces DataMCP needs (pulumi CLI, helm, Python packages, state backend, audit store) are
        present. Use it when another tool fails with a toolchain error."""
        return toolchain_report(await self.rt.cli_read(lambda: run_checks(self.rt.settings)))


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """cancel_operation for operators and destroy for admins (when enabled), unless read-only; the toolchain check
    for every role."""
    tools = AdminTools(runtime)
    if not runtime.mcp_settings.read_only:
        runtime.add_tool(mcp, tools.cancel_operation, STOPS, "operator")
        if runtime.mcp_settings.enable_destroy:
            runtime.add_tool(mcp, tools.destroy, CHANGES_INFRASTRUCTURE, "admin")
    runtime.add_tool(mcp, tools.check_toolchain, READ_ONLY, "viewer")
