"""An apply run as a task waits for people: while the preview lacks approvals the task is `input_required` and
asks the client to show the person the console page (URL-mode elicitation), or says what to run where no console
is served; once enough approvals are there it applies. A rejection or an expired preview ends the wait."""

from __future__ import annotations

import asyncio
from typing import Any

from engine.mcpserver.runtime import ToolRuntime
from engine.mcpserver.tasks.context import TaskHandle

POLL_SECONDS = 2.0


def approval_request(console_url: str | None, preview_id: str, reason: str) -> dict[str, Any]:
    """The input the task waits for, as an elicitation request the client can show the person."""
    message = f"{reason} A person must review and approve preview {preview_id}."
    params: dict[str, Any]
    if console_url is not None:
        params = {
            "mode": "url",
            "message": message,
            "url": f"{console_url}/previews/{preview_id}",
            "elicitationId": f"approve-{preview_id}",
        }
    else:
        command = f" They run `datamcp show {preview_id}`, then `datamcp approve {preview_id}`."
        params = {"mode": "form", "message": message + command, "requestedSchema": {"type": "object", "properties": {}}}
    return {f"approve-{preview_id}": {"method": "elicitation/create", "params": params}}


async def wait_for_approval(runtime: ToolRuntime, task: TaskHandle, preview_id: str) -> None:
    """Return once the preview's approvals suffice; until then the task is `input_required`."""
    asked = False
    while True:
        reason = await runtime.run(lambda: runtime.engine.approval_wait(preview_id))
        if reason is None:
            if asked:
                task.save(status="working", input_requests=None, status_message="approved: applying")
            return
        if not asked:
            request = approval_request(runtime.console_url, preview_id, reason)
            task.save(status="input_required", input_requests=request, status_message=reason)
            asked = True
        await asyncio.sleep(POLL_SECONDS)
