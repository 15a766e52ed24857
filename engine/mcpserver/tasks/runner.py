"""Running a tool call in the background as a task: the record is created before the handle is returned, the
call runs in this process with its progress written to the record, and its end (result, error, cancellation) is
stored. Reads check the owner; a task whose process stopped renewing it is reported failed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastmcp.exceptions import ToolError
from fastmcp.exceptions import ValidationError as ArgumentsInvalid
from fastmcp.tools import ToolResult
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, CallToolResult, TextContent

from engine.access import Principal
from engine.identity import same_principal
from engine.mcpserver.gate import bounded
from engine.mcpserver.limits import CLIENT_ERROR
from engine.mcpserver.tasks import remote_cancel
from engine.mcpserver.tasks.admission import Admission
from engine.mcpserver.tasks.context import CURRENT_TASK, TaskHandle
from engine.operations import Engine
from engine.task_records import TaskRecord

log = logging.getLogger(__name__)
TTL_MS = 24 * 3600 * 1000  # a task's record is kept a day
POLL_MS = 1000
HEARTBEAT_SECONDS = 5.0
SILENT_SECONDS = 30.0  # a task not renewed for this long ran in a process that ended
CANCELLED_CODE = "operation_cancelled"


class TaskRunner:
    def __init__(self, engine: Engine, admission: Admission | None = None) -> None:
        self.engine = engine
        self.records = engine.tasks
        self.admission = admission or Admission()
        self.running: dict[str, tuple[asyncio.Task[None], TaskHandle]] = {}

    def start(self, tool: str, principal: Principal, call: Callable[[], Awaitable[Any]]) -> TaskRecord:
        """Store the task, start the call beside the request and return at once (or refuse past the limits)."""
        self.admission.check(principal, (handle.record.owner for _, handle in self.running.values()))
        record = TaskRecord(task_id=str(uuid.uuid4()), owner=principal.name, tool=tool, ttl_ms=TTL_MS)
        self.records.put(record)
        handle = TaskHandle(record, principal, self.records)
        token = CURRENT_TASK.set(handle)
        try:
            task = asyncio.create_task(self._run(handle, call), name=f"task-{record.task_id}")
        finally:
            CURRENT_TASK.reset(token)
        self.running[record.task_id] = (task, handle)
        task.add_done_callback(lambda done: self._ended(done, handle))
        return record

    async def _run(self, handle: TaskHandle, call: Callable[[], Awaitable[Any]]) -> None:
        beat = asyncio.create_task(self._heartbeat(handle, asyncio.current_task()))
        try:
            handle.save(**await self._outcome(handle, call))
        except Exception:  # the store failed: the record says what it last could
            log.exception("task %s ended but its record could not be written", handle.record.task_id)
        finally:
            beat.cancel()
            await asyncio.to_thread(remote_cancel.forget, self.engine, handle.record.task_id)

    def _ended(self, task: asyncio.Task[None], handle: TaskHandle) -> None:
        """Off the running list; a task cancelled before its first step never ran `_run`, so it is closed here."""
        self.running.pop(handle.record.task_id, None)
        if task.cancelled() and not handle.record.final:
            with contextlib.suppress(Exception):
                handle.save(status="cancelled", status_message=stopped(handle))

    async def _outcome(self, handle: TaskHandle, call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        try:
            result = call_tool_result(await call())
            return {"status": "completed", "result": result, "status_message": finished(handle)}
        except asyncio.CancelledError:
            return {"status": "cancelled", "status_message": stopped(handle)}
        except ToolError as exc:
            if str(exc).startswith(CANCELLED_CODE):
                return {"status": "cancelled", "status_message": stopped(handle)}
            return refused(str(exc))
        except ArgumentsInvalid as exc:  # a malformed call: the caller's mistake, answered as the blocking call is
            log.log(CLIENT_ERROR, "task %s: invalid arguments for %s", handle.record.task_id, handle.record.tool)
            return refused(bounded(str(exc)))
        except Exception:
            log.exception("task %s failed", handle.record.task_id)
            return {"status": "failed", "error": {"code": INTERNAL_ERROR, "message": "internal error"}}

    async def _heartbeat(self, handle: TaskHandle, main: asyncio.Task[Any] | None) -> None:
        """Renew the record; stop the call (once) when another process was asked to cancel it."""
        stopping = False
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(handle.save)
            if main is not None and not stopping and await self._asked_elsewhere(handle.record.task_id):
                main.cancel()
                stopping = True

    async def _asked_elsewhere(self, task_id: str) -> bool:
        try:
            return await asyncio.to_thread(remote_cancel.asked, self.engine, task_id)
        except Exception:  # the store does not answer: ask again at the next beat
            return False

    def get(self, task_id: str, principal: Principal) -> TaskRecord:
        """The caller's own task (someone else's is not found); one whose process ended is failed."""
        record = self.records.get(task_id)
        if record is None or not same_principal(record.owner, principal.name) or record.expired(time.time()):
            raise MCPError(code=INVALID_PARAMS, message=f"no task {task_id!r}")
        if not record.final and task_id not in self.running and time.time() - record.updated_epoch > SILENT_SECONDS:
            message = "the server process running this task ended before it finished"
            record = record.model_copy(update={"status": "failed", "status_message": message})
            record = record.model_copy(update={"error": {"code": INTERNAL_ERROR, "message": message}})
            self.records.put(record)
        return record

    def cancel(self, task_id: str, principal: Principal) -> TaskRecord:
        """Cooperative: the running call is cancelled (its operation stops new steps and ends `cancelled`); a task
        running in another server process is asked through the engine's cancel requests."""
        record = self.get(task_id, principal)
        if record.final:
            return record
        running = self.running.get(task_id)
        if running is not None:
            running[0].cancel()
        else:
            remote_cancel.ask(self.engine, record)
        return record

    def answered(self, task_id: str, principal: Principal, responses: dict[str, Any]) -> None:
        """tasks/update: a declined or cancelled request cancels the task; any other answer is noted."""
        record = self.get(task_id, principal)
        actions = {str(r.get("action")) for r in responses.values() if isinstance(r, dict)}
        if actions & {"decline", "cancel"}:
            self.cancel(task_id, principal)
        elif record.status == "input_required":
            running = self.running.get(task_id)
            if running is not None:
                running[1].save(status_message="the person was shown the request; waiting for their approval")


def refused(text: str) -> dict[str, Any]:
    """A tool error ends the task completed, with the isError result the blocking call would have answered."""
    refusal = CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)
    return {"status": "completed", "result": dump(refusal), "status_message": text[:500]}


def finished(handle: TaskHandle) -> str:
    return f"{handle.record.tool} done: {handle.done} of {handle.total or handle.done} resources"


def stopped(handle: TaskHandle) -> str:
    total = f" of {handle.total}" if handle.total else ""
    operation_id = handle.record.operation_id
    operation = f"; operation {operation_id} (get_operation shows what changed)" if operation_id else ""
    return f"cancelled after {handle.done}{total} resources{operation}"


def call_tool_result(value: Any) -> dict[str, Any]:
    """A tool's return as the CallToolResult a blocking call would have answered."""
    converted = value.to_mcp_result() if isinstance(value, ToolResult) else value
    if isinstance(converted, CallToolResult):
        return dump(converted)
    if isinstance(converted, tuple):
        return dump(CallToolResult(content=converted[0], structured_content=converted[1]))
    return dump(CallToolResult(content=converted))


def dump(result: CallToolResult) -> dict[str, Any]:
    return result.model_dump(by_alias=True, mode="json", exclude_none=True)
