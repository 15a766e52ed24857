"""The tasks extension's wire shapes (SEP-2663): a flat task object with camelCase keys, `resultType` "task" on
the answer to an augmented tools/call and "complete" on tasks/* answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from mcp_types import RequestParams, Result
from pydantic import BaseModel, ConfigDict, Field

from engine.task_records import TaskRecord, TaskStatus

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"


class TaskFields(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(serialization_alias="taskId")
    status: TaskStatus
    created_at: str = Field(serialization_alias="createdAt")
    last_updated_at: str = Field(serialization_alias="lastUpdatedAt")
    ttl_ms: int | None = Field(serialization_alias="ttlMs")
    status_message: str | None = Field(default=None, serialization_alias="statusMessage")
    poll_interval_ms: int | None = Field(default=None, serialization_alias="pollIntervalMs")


class CreateTaskResult(TaskFields):
    result_type: Literal["task"] = Field(default="task", serialization_alias="resultType")


class GetTaskResult(TaskFields):
    result_type: Literal["complete"] = Field(default="complete", serialization_alias="resultType")
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, Any] | None = Field(default=None, serialization_alias="inputRequests")


class Acknowledged(Result):
    """The answer to tasks/update and tasks/cancel."""

    result_type: Literal["complete"] = Field(default="complete", serialization_alias="resultType")


class TaskParams(RequestParams):
    model_config = ConfigDict(populate_by_name=True)

    task_id: str = Field(alias="taskId", max_length=64)


class UpdateParams(TaskParams):
    input_responses: dict[str, Any] = Field(alias="inputResponses")


def stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fields(record: TaskRecord, poll_ms: int) -> dict[str, Any]:
    """The task fields every answer carries, from the stored record."""
    return {
        "task_id": record.task_id,
        "status": record.status,
        "created_at": stamp(record.created_epoch),
        "last_updated_at": stamp(record.updated_epoch),
        "ttl_ms": record.ttl_ms,
        "status_message": record.status_message,
        "poll_interval_ms": None if record.final else poll_ms,
    }


def detailed(record: TaskRecord, poll_ms: int) -> GetTaskResult:
    """tasks/get: the result when completed, the error when failed, the open requests when input is required."""
    return GetTaskResult(
        **fields(record, poll_ms),
        result=record.result if record.status == "completed" else None,
        error=record.error if record.status == "failed" else None,
        input_requests=record.input_requests if record.status == "input_required" else None,
    )
