"""A client of the tasks extension built on the official MCP SDK's ClientSession: it opts the extension in on
every request, claims the `task` result of tools/call, and sends tasks/get, tasks/update and tasks/cancel."""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar, Literal

from mcp import ClientSession
from mcp.client.extension import ClaimContext, ResultClaim
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import BaseModel, ConfigDict, Field

TASKS = "io.modelcontextprotocol/tasks"
FINAL = ("completed", "failed", "cancelled")


class Fields(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    task_id: str = Field(alias="taskId")
    status: str
    status_message: str | None = Field(default=None, alias="statusMessage")
    poll_interval_ms: int | None = Field(default=None, alias="pollIntervalMs")
    ttl_ms: int | None = Field(default=None, alias="ttlMs")


class Created(Fields, Result):
    """The answer to a tools/call the server runs as a task (the SDK routes it here by `resultType`)."""

    result_type: Literal["task"] = Field(default="task", alias="resultType")


class Task(Fields, Result):
    """The answer to tasks/get."""

    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = Field(default=None, alias="inputRequests")


class TaskParams(RequestParams):
    model_config = ConfigDict(populate_by_name=True)
    task_id: str = Field(alias="taskId")


class UpdateParams(TaskParams):
    input_responses: dict[str, Any] = Field(alias="inputResponses")


class GetTask(Request[TaskParams, Literal["tasks/get"]]):
    name_param: ClassVar[str | None] = "taskId"


class CancelTask(Request[TaskParams, Literal["tasks/cancel"]]):
    name_param: ClassVar[str | None] = "taskId"


class UpdateTask(Request[UpdateParams, Literal["tasks/update"]]):
    name_param: ClassVar[str | None] = "taskId"


async def _not_resolved(value: Created, context: ClaimContext) -> CallToolResult:
    raise AssertionError("tests read the task handle themselves")


def session_options(tasks: bool = True) -> dict[str, Any]:
    """ClientSession keyword arguments: opt the tasks extension in (or not)."""
    if not tasks:
        return {}
    claim = ResultClaim(result_type="task", model=Created, resolve=_not_resolved)
    return {"extensions": {TASKS: {}}, "result_claims": {TASKS: [claim]}}


async def start(session: ClientSession, tool: str, arguments: dict[str, Any]) -> Created | CallToolResult:
    result = await session.call_tool(tool, arguments, allow_claimed=True)
    assert isinstance(result, Created | CallToolResult), result
    return result


async def get(session: ClientSession, task_id: str) -> Task:
    return await session.send_request(GetTask(method="tasks/get", params=TaskParams(task_id=task_id)), Task)


async def cancel(session: ClientSession, task_id: str) -> None:
    await session.send_request(CancelTask(method="tasks/cancel", params=TaskParams(task_id=task_id)), Result)


async def update(session: ClientSession, task_id: str, responses: dict[str, Any]) -> None:
    params = UpdateParams(task_id=task_id, input_responses=responses)
    await session.send_request(UpdateTask(method="tasks/update", params=params), Result)


async def wait(session: ClientSession, task_id: str, until: tuple[str, ...] = FINAL, timeout: float = 300) -> Task:
    """Poll as the server asks (pollIntervalMs) until the task reaches one of `until`."""
    deadline = time.monotonic() + timeout
    while True:
        task = await get(session, task_id)
        if task.status in until:
            return task
        assert time.monotonic() < deadline, f"task {task_id} still {task.status}: {task.status_message}"
        await asyncio.sleep((task.poll_interval_ms or 500) / 1000)
