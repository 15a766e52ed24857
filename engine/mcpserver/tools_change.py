"""The operator's tools: ask a person to approve a preview, and apply a preview another person approved."""

from __future__ import annotations

import asyncio
from typing import Any

from fastmcp import Context, FastMCP
from mcp.types import ToolAnnotations

from engine.mcpserver.arguments import Reason
from engine.mcpserver.presenting import bounded_apply
from engine.mcpserver.runtime import ToolRuntime
from engine.mcpserver.tasks.approval_wait import wait_for_approval
from engine.mcpserver.tasks.context import current_task
from engine.vocabulary import Id

RECORDS = ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False)
CHANGES_INFRASTRUCTURE = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)


class ChangeTools:
    """Bound methods registered as tools; there is deliberately no approve tool."""

    def __init__(self, runtime: ToolRuntime) -> None:
        self.rt = runtime
        self.engine = runtime.engine

    async def request_apply(self, preview_id: Id, reason: Reason, ctx: Context) -> dict[str, Any]:
        """Ask a person to approve a preview so it can be applied. Records the request and returns the console page
        where a person reviews and approves it (`console_url`), the exact commands, and the CI route. Show them to
        the person; you cannot approve yourself."""
        answer = await self.rt.as_caller(
            lambda principal: self.engine.request_apply(preview_id, user=principal.name, reason=reason)
        )
        if self.rt.console_url is not None:
            answer["console_url"] = f"{self.rt.console_url}/previews/{preview_id}"
            answer["elicitation"] = await point_to(ctx, answer["console_url"], preview_id)
        return answer

    async def apply(self, preview_id: Id, ctx: Context) -> dict[str, Any]:
        """Apply a preview that another person approved: exactly the reviewed changes, or a refusal that says why
        (no approval yet, the preview is stale, the stack is busy). Run as a task, it waits for the approval
        instead (status input_required, with the console page to show the person)."""
        task = current_task()
        if task is not None:
            await wait_for_approval(self.rt, task, preview_id)
        result = await self.rt.operation(
            lambda call: self.engine.apply_preview(
                preview_id, user=call.user, on_progress=call.progress, operation_id=call.id
            ),
            ctx,
        )
        return bounded_apply(result)


ELICIT_SECONDS = 30


async def point_to(ctx: Context, url: str, preview_id: str) -> str:
    """Where the client declared URL-mode elicitation, ask it to show the person the console page; the answer says
    what happened ("not supported": the URL is in the result only)."""
    capabilities = ctx.session.client_capabilities
    elicitation = capabilities.elicitation if capabilities is not None else None
    if elicitation is None or elicitation.url is None or not ctx.session.can_send_request:
        return "not supported"
    try:
        result = await asyncio.wait_for(
            ctx.session.elicit_url(
                message=f"A person must review and approve preview {preview_id} in the DataMCP console.",
                url=url,
                elicitation_id=f"approve-{preview_id}",
            ),
            timeout=ELICIT_SECONDS,
        )
    except Exception:  # the URL is in the result whatever the client does (a timeout too)
        return "no answer"
    return str(result.action)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """The operator's tools, unless the server is read-only."""
    if runtime.mcp_settings.read_only:
        return
    tools = ChangeTools(runtime)
    runtime.add_tool(mcp, tools.request_apply, RECORDS, "operator")
    runtime.add_tool(mcp, tools.apply, CHANGES_INFRASTRUCTURE, "operator")
