"""An apply run as a task waits for people: while the preview lacks approvals the task is `input_required` and
asks the client to show the person the console page (URL-mode elicitation), or says what to run where no console
is served; once enough approvals are there it applies. A rejection or an expired preview ends the wait, and so
does the end of the task's own record: a task nobody can read or cancel any more must not apply later."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastmcp.exceptions import ToolError

from engine.mcpserver.limits import CLIENT_ERROR
from engine.mcpserver.runtime import ToolRuntime
from engine.mcpserver.tasks import remote_cancel
from engine.mcpserver.tasks.context import TaskHandle
from engine.mcpserver.tasks.runner import CANCELLED_CODE

POLL_SECONDS = 2.0
MARGIN_SECONDS = 60.0  # the wait ends this long before the task's record expires, so its end can still be read


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
        if task.record.expired(time.time() + MARGIN_SECONDS):
            raise ToolError(
                f"approval_required: preview {preview_id} was not approved while this task was kept; "
                "call apply again once people approved it",
                log_level=CLIENT_ERROR,
            )
        reason = await runtime.run(lambda: still_waiting(runtime, task, preview_id))
        if reason is None:
            if asked:
                task.save(status="working", input_requests=None, status_message="approved: applying")
            return
        if not asked:
            request = approval_request(runtime.console_url, preview_id, reason)
            task.save(status="input_required", input_requests=request, status_message=reason)
            asked = True
        await asyncio.sleep(POLL_SECONDS)


def still_waiting(runtime: ToolRuntime, task: TaskHandle, preview_id: str) -> str | None:
    """Why the apply still waits (None: apply now); a cancel asked through another server process ends the wait
    here, at once, rather than at that process's next heartbeat, when the apply may have begun."""
    if remote_cancel.asked(runtime.engine, task.record.task_id):
        raise ToolError(f"{CANCELLED_CODE}: cancelled through another server process", log_level=CLIENT_ERROR)
    return runtime.engine.approval_wait(preview_id)
