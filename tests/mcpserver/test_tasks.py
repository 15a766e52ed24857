"""Long operations as MCP tasks, driven by the official MCP SDK client over stdio and streamable HTTP: the handle
comes back while the operation runs, progress and the result are read with tasks/get, an apply waits for the
person's approval (input_required) and then applies, tasks/cancel stops an apply and says how far it got, results
outlive the session and the server process, and clients without the extension keep blocking calls."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult

from engine.access import Principal
from engine.mcpserver.tasks.runner import SILENT_SECONDS, TaskRunner
from engine.operations import Engine
from engine.sandbox.inventory import Inventory
from engine.settings import Settings
from engine.task_records import TaskRecord
from tests.mcpserver import task_client as tasks

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
STACK = "gcp-dev"
OPERATOR, OTHER = "operator-token-0123456789", "another-operator-token-0123"
TOKENS = json.dumps(
    {
        OPERATOR: {"principal": "otto", "roles": ["operator"]},
        OTHER: {"principal": "olga", "roles": ["operator"]},
    }
)


@asynccontextmanager
async def stdio_session(settings: Settings, *, opt_in: bool = True, user: str = "otto") -> AsyncIterator[ClientSession]:
    env = {
        **os.environ,
        "DATAMCP_PROJECT_ROOT": str(settings.project_root),
        "DATAMCP_STATE_DIR": str(settings.state_dir),
        "DATAMCP_TOOLS_DIR": str(settings.tools_dir),
        "DATAMCP_SANDBOX": "1",
        "DATAMCP_DEFAULT_USER": user,
    }
    server = StdioServerParameters(command=sys.executable, args=["-m", "mcp_server"], env=env, cwd=str(ROOT))
    async with stdio_client(server) as (read, write), ClientSession(read, write, **tasks.session_options(opt_in)) as s:
        await s.discover()
        yield s


@asynccontextmanager
async def http_session(url: str, token: str = OPERATOR) -> AsyncIterator[ClientSession]:
    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120)
    async with (
        http,
        streamable_http_client(f"{url}/mcp", http_client=http) as streams,
        ClientSession(streams[0], streams[1], **tasks.session_options()) as session,  # type: ignore[arg-type]
    ):
        await session.discover()
        yield session


async def answer(request: Awaitable[tasks.Task]) -> tasks.Task | MCPError:
    """The answer, or the protocol error it got (inside the session, before its task group wraps it)."""
    try:
        return await request
    except MCPError as exc:
        return exc


async def stalled(cloud: Inventory, name: str = "gke-cluster", seconds: float = 120) -> None:
    """Wait until the apply has reached the resource whose create the fault stalls."""
    deadline = time.monotonic() + seconds
    while not any(name in r["urn"] for r in cloud.list("datamcp", STACK)):
        assert time.monotonic() < deadline, f"the stalled resource {name} never started"
        await asyncio.sleep(0.2)


def payload(result: dict[str, Any]) -> dict[str, Any]:
    """The tool's JSON answer inside a stored CallToolResult."""
    return json.loads(CallToolResult.model_validate(result).content[0].text)  # type: ignore[union-attr]


def test_a_preview_task_returns_a_handle_reports_progress_and_its_result_outlives_the_server(
    sandbox_settings: Settings,
) -> None:
    async def first() -> tuple[str, tasks.Task, tasks.Task]:
        async with stdio_session(sandbox_settings) as session:
            created = await tasks.start(session, "preview", {"stack": STACK})
            assert isinstance(created, tasks.Created) and created.status == "working"
            early = await tasks.get(session, created.task_id)
            done = await tasks.wait(session, created.task_id)
            return created.task_id, early, done

    task_id, early, done = asyncio.run(first())
    assert early.status == "working" and early.result is None  # the handle came back before the preview ended
    assert done.status == "completed" and done.poll_interval_ms is None
    preview = payload(done.result)  # type: ignore[arg-type]
    assert preview["stack"] == STACK and preview["preview_id"] and preview["summary"].startswith("Preview ")
    total = preview["change_summary"]["create"]
    assert done.status_message == f"preview done: {total} of {total} resources"
    assert Engine(sandbox_settings).review(preview["preview_id"]).recorded  # its operation is on record

    async def later(user: str) -> tasks.Task | MCPError:
        async with stdio_session(sandbox_settings, user=user) as session:  # a new server process
            return await answer(tasks.get(session, task_id))

    assert asyncio.run(later("otto")).result == done.result  # type: ignore[union-attr]
    refused = asyncio.run(later("mallory"))
    assert isinstance(refused, MCPError) and "no task" in refused.error.message  # not theirs: not found


def test_clients_without_the_extension_keep_blocking_calls_with_progress(sandbox_settings: Settings) -> None:
    async def run() -> tuple[Any, list[float], Any]:
        seen: list[float] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            seen.append(done)

        async with stdio_session(sandbox_settings, opt_in=False) as session:
            result = await session.call_tool("preview", {"stack": STACK}, progress_callback=progress)
            refused = await answer(tasks.get(session, "5c5c50f5-3a8d-44bc-8d04-887db1a1736b"))
            return result, seen, refused

    result, seen, refused = asyncio.run(run())
    assert isinstance(result, CallToolResult) and not result.is_error
    assert json.loads(result.content[0].text)["preview_id"]  # type: ignore[union-attr]
    assert seen and seen == sorted(seen)  # progress notifications, in order
    assert refused.error.code == -32021 and "must declare" in refused.error.message


def test_an_apply_task_waits_for_the_approval_then_applies(
    sandbox_settings: Settings, start_server: Callable[..., Any]
) -> None:
    engine = Engine(sandbox_settings)
    preview_id = engine.preview(STACK, user="otto").preview_id
    server = start_server(sandbox_settings, DATAMCP_MCP_TOKENS=TOKENS, DATAMCP_CONSOLE_DEV_LOGIN="1")

    async def run() -> tuple[tasks.Task, tasks.Task]:
        async with http_session(server.url) as session:
            created = await tasks.start(session, "apply", {"preview_id": preview_id})
            assert isinstance(created, tasks.Created)
            waiting = await tasks.wait(session, created.task_id, until=("input_required", *tasks.FINAL))
            await tasks.update(session, created.task_id, {f"approve-{preview_id}": {"action": "accept"}})
            for who in ("bob", "carol"):
                await asyncio.to_thread(engine.approve, preview_id, approver=who)
            return waiting, await tasks.wait(session, created.task_id)

    waiting, done = asyncio.run(run())
    assert waiting.status == "input_required", waiting.status_message
    request = waiting.input_requests[f"approve-{preview_id}"]  # type: ignore[index]
    assert request["method"] == "elicitation/create" and request["params"]["mode"] == "url"
    assert request["params"]["url"] == f"{server.url}/console/previews/{preview_id}"
    assert done.status == "completed", done.status_message
    assert payload(done.result)["applied"] is True  # type: ignore[arg-type]
    assert engine.outputs(STACK)


def test_cancelling_an_apply_task_stops_it_and_says_how_far_it_got(
    sandbox_settings: Settings, start_server: Callable[..., Any]
) -> None:
    engine = Engine(sandbox_settings)
    preview_id = engine.preview(STACK, user="otto").preview_id
    for who in ("bob", "carol"):
        engine.approve(preview_id, approver=who)
    faults = json.dumps({"stall_create": "gke-cluster", "stall_seconds": "12"})
    server = start_server(sandbox_settings, DATAMCP_MCP_TOKENS=TOKENS, DATAMCP_SANDBOX_FAULTS=faults)
    cloud = Inventory(sandbox_settings.sandbox_dir)  # type: ignore[arg-type]

    async def run() -> tuple[str, tasks.Task]:
        async with http_session(server.url) as session:
            created = await tasks.start(session, "apply", {"preview_id": preview_id})
            assert isinstance(created, tasks.Created)
            await stalled(cloud)
            await tasks.cancel(session, created.task_id)
            return created.task_id, await tasks.wait(session, created.task_id)

    task_id, cancelled = asyncio.run(run())
    assert cancelled.status == "cancelled" and cancelled.result is None
    message = cancelled.status_message or ""
    assert message.startswith("cancelled after ") and "get_operation" in message
    operation_id = message.split("operation ")[1].split(" ")[0]
    assert engine.get_operation(operation_id).status == "cancelled"

    async def reconnect(token: str) -> tasks.Task | MCPError:
        async with http_session(server.url, token) as session:
            return await answer(tasks.get(session, task_id))

    assert asyncio.run(reconnect(OPERATOR)).status_message == message  # type: ignore[union-attr]
    refused = asyncio.run(reconnect(OTHER))
    assert isinstance(refused, MCPError) and "no task" in refused.error.message


def test_a_task_whose_server_process_ended_is_reported_failed(sandbox_settings: Settings) -> None:
    engine = Engine(sandbox_settings)
    stale = time.time() - SILENT_SECONDS - 1
    record = TaskRecord(task_id="task-0001", owner="otto", tool="apply", ttl_ms=60_000, updated_epoch=stale)
    engine.tasks.put(record)
    runner = TaskRunner(engine)

    ended = runner.get("task-0001", Principal(name="otto", roles=["operator"]))
    assert ended.status == "failed" and "ended before it finished" in (ended.status_message or "")
    assert engine.tasks.get("task-0001").status == "failed"  # type: ignore[union-attr]
    fresh = record.model_copy(update={"task_id": "task-0002", "updated_epoch": time.time()})
    engine.tasks.put(fresh)
    assert runner.get("task-0002", Principal(name="otto", roles=["operator"])).status == "working"
