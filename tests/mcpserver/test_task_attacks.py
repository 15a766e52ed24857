"""Attacks on long operations run as MCP tasks, each asserting the safe behaviour: nobody reads, answers or cancels
another principal's task; a viewer starts no change as a task; an apply task never applies without the approvals
the blocking call needs, nor after it was cancelled, declined or outlived its record; records are private, bounded
and swept; one principal cannot flood the server with tasks; protocol tricks (legacy sessions, other tools, routing
headers that name another task or tool) get no task handle and no other task. Most run in process (the official
SDK's client over FastMCP's in-memory transport, or the TaskRunner itself); a few run real previews or a server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastmcp import FastMCP
from fastmcp.client.transports.memory import FastMCPTransport
from fastmcp.exceptions import ToolError
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult
from pydantic import TypeAdapter

from engine.access import Principal
from engine.audit import OperationRecord
from engine.errors import DataMcpError
from engine.mcpserver.server import create_server
from engine.mcpserver.settings import McpSettings
from engine.mcpserver.tasks import approval_wait, runner
from engine.mcpserver.tasks.runner import TaskRunner
from engine.operations import Engine
from engine.settings import Settings
from engine.task_records import FileTaskRecords, TaskRecord
from engine.vocabulary import Status, Tool
from tests.mcpserver import task_client as tasks
from tests.mcpserver.conftest import wait_until

STACK = "gcp-dev"
NO_PREVIEW = "5c5c50f5-3a8d-44bc-8d04-887db1a1736b"  # a well-formed id no preview has
OTTO = Principal(name="otto", roles=["operator"])
MALLORY = Principal(name="mallory", roles=["operator"])
OLGA = Principal(name="olga", roles=["admin"])
OTHER_USER = 43911  # a plain numeric uid that no account has
DEV_REPO_TOKEN = "ghp_sandboxDevTokenNotReal0123456789abcd"  # aws-dev's secret config (tests/mcpserver/test_server.py)


def server_for(settings: Settings, user: str = "otto", roles: tuple[str, ...] = ("operator",), **mcp: Any) -> FastMCP:
    """A server of its own (as another server process on this host would be) on the same state, for a stdio user."""
    mine = settings.model_copy(update={"default_user": user})
    return create_server(mine, McpSettings(stdio_roles=list(roles), **mcp), engine=Engine(mine))


@asynccontextmanager
async def session(server: FastMCP, *, legacy: bool = False) -> AsyncIterator[ClientSession]:
    """The official SDK's client opted in to the tasks extension, on the modern protocol (or a legacy handshake)."""
    async with FastMCPTransport(server).connect_session(**tasks.session_options()) as client:
        await (client.initialize() if legacy else client.discover())
        yield client


async def refusal(request: Any) -> MCPError:
    try:
        await request
    except MCPError as exc:
        return exc
    raise AssertionError("the request was answered")


def text(result: CallToolResult | dict[str, Any]) -> str:
    value = CallToolResult.model_validate(result) if isinstance(result, dict) else result
    return value.content[0].text  # type: ignore[union-attr]


def records(settings: Settings) -> list[Path]:
    folder = settings.state_dir / "tasks"
    return sorted(folder.glob("*.json")) if folder.exists() else []


def applies(engine: Engine) -> list[OperationRecord]:
    """The applies of the stack on record: started, refused (failed), cancelled or done."""
    return [r for r in engine.history(STACK, limit=100).items if r.tool == Tool.UP]


def applied(engine: Engine) -> list[str]:
    return [r.id for r in applies(engine) if r.status == Status.SUCCEEDED]


async def forever() -> None:
    await asyncio.Event().wait()


# Who may touch a task


def test_a_viewer_cannot_start_apply_or_destroy_as_a_task(sandbox_settings: Settings) -> None:
    async def run() -> list[Any]:
        async with session(server_for(sandbox_settings, roles=("viewer",), enable_destroy=True)) as viewer:
            return [
                await tasks.start(viewer, "apply", {"preview_id": NO_PREVIEW}),
                await tasks.start(viewer, "destroy", {"stack": STACK, "preview_id": NO_PREVIEW}),
            ]

    for answer in asyncio.run(run()):
        assert isinstance(answer, CallToolResult) and answer.is_error, answer  # no task handle
        assert text(answer).startswith("unknown tool")
    assert records(sandbox_settings) == []  # the gate ran before the interceptor: nothing was stored


def test_another_principal_can_neither_read_update_nor_cancel_a_task(sandbox_settings: Settings) -> None:
    async def run() -> tuple[tasks.Task, list[MCPError], tasks.Task]:
        async with session(server_for(sandbox_settings)) as otto:
            created = await tasks.start(otto, "apply", {"preview_id": NO_PREVIEW})
            assert isinstance(created, tasks.Created)
            done = await tasks.wait(otto, created.task_id)
            refused = []
            for name, roles in (("mallory", ("operator",)), ("olga", ("admin",)), ("vera", ("viewer",))):
                async with session(server_for(sandbox_settings, user=name, roles=roles)) as other:
                    refused.append(await refusal(tasks.get(other, created.task_id)))
                    refused.append(await refusal(tasks.update(other, created.task_id, {"x": {"action": "decline"}})))
                    refused.append(await refusal(tasks.cancel(other, created.task_id)))
            return done, refused, await tasks.get(otto, created.task_id)

    done, refused, again = asyncio.run(run())
    for error in refused:
        assert error.error.code == -32602 and error.error.message.startswith("no task"), error.error
    assert again.status == done.status and again.result == done.result  # untouched


def test_another_principal_cannot_stop_a_running_task(sandbox_settings: Settings) -> None:
    async def run() -> tuple[str, str]:
        tasks_of = TaskRunner(Engine(sandbox_settings))
        record = tasks_of.start("preview", OTTO, forever)
        await asyncio.sleep(0.1)
        for who in (MALLORY, OLGA):
            with pytest.raises(MCPError, match="no task"):
                tasks_of.cancel(record.task_id, who)
            with pytest.raises(MCPError, match="no task"):
                tasks_of.answered(record.task_id, who, {"k": {"action": "decline"}})
        await asyncio.sleep(0.1)
        before = tasks_of.get(record.task_id, OTTO).status
        tasks_of.cancel(record.task_id, OTTO)
        await asyncio.sleep(0.1)
        return before, tasks_of.get(record.task_id, OTTO).status

    assert asyncio.run(run()) == ("working", "cancelled")


def test_malicious_task_ids_are_not_found_and_answered_briefly(sandbox_settings: Settings) -> None:
    (sandbox_settings.state_dir / "previews").mkdir(parents=True)
    (sandbox_settings.state_dir / "previews" / "planted.json").write_text("{}")
    ids = ["../previews/planted", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "a" * 64, "x" * 5000, "", "\u0000" * 8]

    async def run() -> list[MCPError]:
        async with session(server_for(sandbox_settings)) as otto:
            return [await refusal(tasks.get(otto, task_id)) for task_id in ids]

    for error in asyncio.run(run()):
        assert error.error.code == -32602, error.error
        assert len(error.error.message) < 200 and len(str(error.error.data or "")) < 200


# What an apply task needs before it applies


@pytest.mark.slow
def test_an_accept_or_another_previews_approvals_apply_nothing_and_a_rejection_ends_the_wait(
    sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(approval_wait, "POLL_SECONDS", 0.1)
    engine = Engine(sandbox_settings)
    preview_id = engine.preview(STACK, user="otto").preview_id
    another = engine.preview("aws-dev", user="otto").preview_id

    async def run() -> tuple[tasks.Task, tasks.Task]:
        async with session(server_for(sandbox_settings)) as otto:
            created = await tasks.start(otto, "apply", {"preview_id": preview_id})
            assert isinstance(created, tasks.Created)
            await tasks.wait(otto, created.task_id, until=("input_required",), timeout=60)
            await tasks.update(otto, created.task_id, {f"approve-{preview_id}": {"action": "accept"}})
            await tasks.update(otto, created.task_id, {f"approve-{another}": {"action": "accept"}})
            for who in ("bob", "carol"):  # approvals of another preview do not count for this one
                await asyncio.to_thread(engine.approve, another, approver=who)
            await asyncio.sleep(1.5)
            still = await tasks.get(otto, created.task_id)
            await asyncio.to_thread(engine.reject, preview_id, user="bob", reason="not this week")
            for who in ("carol", "dave"):  # approvals after the no do not count
                with contextlib.suppress(DataMcpError):
                    await asyncio.to_thread(engine.approve, preview_id, approver=who)
            return still, await tasks.wait(otto, created.task_id, timeout=60)

    still, ended = asyncio.run(run())
    assert still.status == "input_required", still.status_message
    assert ended.status == "completed" and ended.result is not None and ended.result.get("isError") is True
    assert "rejected by bob" in text(ended.result)
    assert applies(engine) == []


@pytest.mark.slow
def test_an_apply_task_is_released_by_the_engine_not_by_its_wait(
    sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wait only says when to try: an apply after a wait that (wrongly or by a race) saw enough approvals still
    meets every check the blocking apply does."""
    engine = Engine(sandbox_settings)
    preview_id = engine.preview(STACK, user="otto").preview_id
    server = create_server(sandbox_settings.model_copy(update={"default_user": "otto"}), McpSettings(), engine=engine)
    monkeypatch.setattr(engine, "approval_wait", lambda preview_id: None)

    async def run() -> tasks.Task:
        async with session(server) as otto:
            created = await tasks.start(otto, "apply", {"preview_id": preview_id})
            assert isinstance(created, tasks.Created)
            return await tasks.wait(otto, created.task_id, timeout=120)

    ended = asyncio.run(run())
    assert ended.status == "completed" and ended.result is not None and ended.result.get("isError") is True
    assert text(ended.result).startswith("approval_required")
    assert applied(engine) == []


@pytest.mark.slow
def test_an_apply_task_cancelled_while_waiting_never_applies_later(
    sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cancelled through the server running it, through another server process on the same store, or declined with
    tasks/update: when the approvals come in afterwards, nothing is applied."""
    monkeypatch.setattr(approval_wait, "POLL_SECONDS", 0.1)
    engine = Engine(sandbox_settings)
    preview_id = engine.preview(STACK, user="otto").preview_id
    args = {"preview_id": preview_id}

    async def run() -> list[tasks.Task]:
        async with session(server_for(sandbox_settings)) as here, session(server_for(sandbox_settings)) as there:
            started = [await tasks.start(here, "apply", args) for _ in range(3)]
            ids = [created.task_id for created in started]  # type: ignore[union-attr]
            for task_id in ids:
                await tasks.wait(here, task_id, until=("input_required",), timeout=60)
            await tasks.cancel(there, ids[0])  # another process: it does not run the task
            await tasks.cancel(here, ids[1])
            await tasks.update(here, ids[2], {f"approve-{preview_id}": {"action": "decline"}})
            await asyncio.sleep(1)
            for who in ("bob", "carol"):
                await asyncio.to_thread(engine.approve, preview_id, approver=who)
            return [await tasks.wait(here, task_id, timeout=120) for task_id in ids]

    ended = asyncio.run(run())
    assert [t.status for t in ended] == ["cancelled"] * 3, [t.status_message for t in ended]
    assert applies(engine) == []


@pytest.mark.slow
def test_an_apply_task_stops_waiting_before_its_record_expires(
    sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A task nobody can read or cancel any more (its record expired) must not apply when approvals come later."""
    monkeypatch.setattr(approval_wait, "POLL_SECONDS", 0.1)
    monkeypatch.setattr(runner, "TTL_MS", 1500)
    engine = Engine(sandbox_settings)
    preview_id = engine.preview(STACK, user="otto").preview_id

    async def run() -> str:
        async with session(server_for(sandbox_settings)) as otto:
            created = await tasks.start(otto, "apply", {"preview_id": preview_id})
            assert isinstance(created, tasks.Created)
            await asyncio.sleep(3)  # past the record's expiry: tasks/get and tasks/cancel no longer find it
            for who in ("bob", "carol"):
                await asyncio.to_thread(engine.approve, preview_id, approver=who)
            await asyncio.sleep(3)
            return created.task_id

    task_id = asyncio.run(run())
    assert applies(engine) == []
    ended = engine.tasks.get(task_id)
    assert ended is not None and ended.status == "completed" and ended.result is not None
    assert text(ended.result).startswith("approval_required")


# Flooding the server


def test_task_starts_past_the_rate_limit_are_refused_without_a_record(sandbox_settings: Settings) -> None:
    async def run() -> list[Any]:
        async with session(server_for(sandbox_settings, rate_limit_per_minute=2)) as otto:
            return [await tasks.start(otto, "apply", {"preview_id": NO_PREVIEW}) for _ in range(6)]

    answers = asyncio.run(run())
    handles = [a for a in answers if isinstance(a, tasks.Created)]
    refused = [a for a in answers if isinstance(a, CallToolResult)]
    assert len(handles) == 2 and len(refused) == 4
    assert all(a.is_error and text(a).startswith("rate limit") for a in refused)
    assert len(records(sandbox_settings)) == 2


def test_one_principal_cannot_keep_many_tasks_waiting(sandbox_settings: Settings) -> None:
    """An apply waiting for people holds no CLI slot and no rate-limit token yet: unfinished tasks are capped."""

    async def run() -> tuple[int, list[str], bool]:
        tasks_of = TaskRunner(Engine(sandbox_settings))
        started, refusals = 0, []
        for _ in range(50):
            try:
                tasks_of.start("apply", OTTO, forever)
                started += 1
            except ToolError as exc:
                refusals.append(str(exc))
        others = tasks_of.start("apply", MALLORY, forever) is not None  # one principal does not starve another
        for task, _ in list(tasks_of.running.values()):
            task.cancel()
        await asyncio.sleep(0.1)
        return started, refusals, others

    started, refusals, others = asyncio.run(run())
    assert 1 <= started <= 16 and others
    assert all(r.startswith(("too many tasks", "rate limit")) for r in refusals)


def test_expired_task_records_are_removed(sandbox_settings: Settings) -> None:
    folder = sandbox_settings.state_dir / "tasks"
    old = time.time() - 3 * 86400
    FileTaskRecords(folder).put(
        TaskRecord(task_id="expired-0001", owner="otto", tool="apply", ttl_ms=1000, created_epoch=old)
    )
    FileTaskRecords(folder).put(TaskRecord(task_id="kept-0001", owner="otto", tool="apply", ttl_ms=86_400_000))
    FileTaskRecords(folder).put(TaskRecord(task_id="fresh-0001", owner="otto", tool="apply", ttl_ms=86_400_000))

    wait_until(lambda: not (folder / "expired-0001.json").exists(), 10, "the expired record was removed")
    assert (folder / "kept-0001.json").exists() and (folder / "fresh-0001.json").exists()


@pytest.mark.slow
def test_expired_task_rows_are_removed_from_the_shared_store() -> None:
    from engine.pgstore.database import Database
    from engine.pgstore.tasks import PgTaskRecords
    from tests.postgres import postgres_cluster

    with postgres_cluster() as url:
        db = Database(url)
        store = PgTaskRecords(db)
        old = time.time() - 3 * 86400
        store.put(TaskRecord(task_id="expired-0001", owner="otto", tool="apply", ttl_ms=1000, created_epoch=old))
        for n in range(3):
            store.put(TaskRecord(task_id=f"fresh-000{n}", owner="otto", tool="apply", ttl_ms=86_400_000))
        time.sleep(1)
        rows = db.one("SELECT count(*) FROM tasks WHERE task_id = %s", "expired-0001")
        assert rows is not None and rows[0] == 0


def test_a_malformed_task_call_is_refused_briefly_not_failed(
    sandbox_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> Any:
        async with session(server_for(sandbox_settings)) as otto:
            answer = await tasks.start(otto, "preview", {"stack": "x" * 100_000, "y" * 5000: "z"})
            return await tasks.wait(otto, answer.task_id) if isinstance(answer, tasks.Created) else answer

    answer = asyncio.run(run())
    if isinstance(answer, tasks.Task):
        assert answer.status == "completed" and answer.result is not None, answer.status
        answer = CallToolResult.model_validate(answer.result)
    assert answer.is_error and len(text(answer)) < 4000
    assert all(r.exc_info is None for r in caplog.records if r.name.startswith("engine.mcpserver"))


def test_a_task_cancelled_before_its_first_step_ends_cancelled(sandbox_settings: Settings) -> None:
    async def run() -> tuple[str, int]:
        tasks_of = TaskRunner(Engine(sandbox_settings))
        record = tasks_of.start("preview", OTTO, forever)
        tasks_of.cancel(record.task_id, OTTO)  # before the event loop ran the task once
        await asyncio.sleep(0.2)
        return tasks_of.get(record.task_id, OTTO).status, len(tasks_of.running)

    assert asyncio.run(run()) == ("cancelled", 0)


# What a record shows, and to whom


def test_an_internal_error_is_masked_in_the_record(sandbox_settings: Settings) -> None:
    secret = "hunter2-db-password"

    async def fails() -> None:
        raise RuntimeError(f"connect failed: password={secret}")

    async def run() -> TaskRecord:
        tasks_of = TaskRunner(Engine(sandbox_settings))
        record = tasks_of.start("preview", OTTO, fails)
        await asyncio.sleep(0.2)
        return tasks_of.get(record.task_id, OTTO)

    ended = asyncio.run(run())
    assert ended.status == "failed" and ended.error == {"code": -32603, "message": "internal error"}
    assert all(secret not in path.read_text() for path in records(sandbox_settings))


@pytest.mark.slow
def test_secrets_reach_neither_task_records_nor_task_answers(sandbox_settings: Settings) -> None:
    """aws-dev's config holds a repository token as a Pulumi secret: a preview and a drift check run as tasks store
    and answer what the blocking calls answer, masked (progress messages included)."""

    async def run() -> list[tasks.Task]:
        async with session(server_for(sandbox_settings)) as otto:
            started = [await tasks.start(otto, tool, {"stack": "aws-dev"}) for tool in ("preview", "check_drift")]
            return [await tasks.wait(otto, created.task_id, timeout=180) for created in started]  # type: ignore[union-attr]

    answers = asyncio.run(run())
    assert [t.status for t in answers] == ["completed", "completed"], [t.status_message for t in answers]
    stored = "".join(path.read_text() for path in records(sandbox_settings))
    shown = "".join(t.model_dump_json() for t in answers)
    assert json.loads(text(answers[0].result))["preview_id"] in stored  # type: ignore[arg-type]
    assert DEV_REPO_TOKEN not in stored and DEV_REPO_TOKEN not in shown


def test_task_records_are_private_files(sandbox_settings: Settings) -> None:
    folder = sandbox_settings.state_dir / "tasks"
    previous = os.umask(0)
    try:
        FileTaskRecords(folder).put(TaskRecord(task_id="task-0001", owner="otto", tool="apply", ttl_ms=60_000))
    finally:
        os.umask(previous)
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (folder / "task-0001.json").stat().st_mode & 0o777 == 0o600
    folder.chmod(0o2770)  # what a volume's fsGroup does on every mount
    assert FileTaskRecords(folder).get("task-0001") is not None
    assert folder.stat().st_mode & 0o7777 == 0o700


def test_records_planted_in_the_task_folder_are_not_shown(sandbox_settings: Settings, tmp_path: Path) -> None:
    engine = Engine(sandbox_settings)
    engine.tasks.put(TaskRecord(task_id="real-0001", owner="mallory", tool="apply", ttl_ms=60_000))
    engine.tasks.put(TaskRecord(task_id="alike-0001", owner="\u043etto", tool="apply", ttl_ms=60_000))  # Cyrillic o
    folder = sandbox_settings.state_dir / "tasks"
    planted = TaskRecord(task_id="other-0001", owner="otto", tool="apply", ttl_ms=60_000, status="completed")
    (folder / "renamed-0001.json").write_text(planted.model_dump_json())  # holds another task than its name
    (tmp_path / "elsewhere.json").write_text(planted.model_copy(update={"task_id": "linked-0001"}).model_dump_json())
    (folder / "linked-0001.json").symlink_to(tmp_path / "elsewhere.json")
    tasks_of = TaskRunner(engine)

    for task_id in ("real-0001", "alike-0001", "renamed-0001", "linked-0001"):
        with pytest.raises(MCPError, match="no task"):
            tasks_of.get(task_id, OTTO)


def test_a_task_folder_made_by_another_user_is_neither_read_nor_written(sandbox_settings: Settings) -> None:
    """Someone who could write in the state dir made `tasks/` first, open to all, and planted a record for otto
    (a finished "preview" whose result names their own preview): otto is not shown it, and no result goes there."""
    if os.geteuid() != 0:
        pytest.fail("making a folder of another user needs root (chown); run the tests as root, as CI does")
    folder = sandbox_settings.state_dir / "tasks"
    folder.mkdir(parents=True)
    os.chown(folder, OTHER_USER, OTHER_USER)
    folder.chmod(0o777)
    fake = {"content": [{"type": "text", "text": json.dumps({"preview_id": "planted-preview"})}]}
    planted = TaskRecord(task_id="planted-0001", owner="otto", tool="preview", ttl_ms=60_000, status="completed")
    (folder / "planted-0001.json").write_text(planted.model_copy(update={"result": fake}).model_dump_json())
    os.chown(folder / "planted-0001.json", OTHER_USER, OTHER_USER)
    engine = Engine(sandbox_settings)

    with pytest.raises(MCPError, match="no task"):
        TaskRunner(engine).get("planted-0001", OTTO)
    with pytest.raises(OSError, match="not a folder private to this user"):
        engine.tasks.put(TaskRecord(task_id="mine-0001", owner="otto", tool="apply", ttl_ms=60_000))
    assert not (folder / "mine-0001.json").exists()


# Protocol confusion


def test_legacy_sessions_and_other_tools_never_get_a_task_handle(sandbox_settings: Settings) -> None:
    opted_in = {"io.modelcontextprotocol/clientCapabilities": {"extensions": {tasks.TASKS: {}}}}

    async def run() -> tuple[Any, MCPError, dict[str, Any], Any]:
        server = server_for(sandbox_settings)
        async with session(server, legacy=True) as legacy:
            call = await legacy.call_tool("apply", {"preview_id": NO_PREVIEW}, meta=opted_in, allow_claimed=True)
            get = await refusal(tasks.get(legacy, NO_PREVIEW))
            raw = await legacy.send_request(
                __import__("mcp_types").CallToolRequest(
                    method="tools/call",
                    params={"name": "apply", "arguments": {"preview_id": NO_PREVIEW}, "task": {"ttl": 60_000}},
                ),
                TypeAdapter(dict[str, Any]),
            )
        async with session(server) as modern:
            other = await tasks.start(modern, "get_preview", {"preview_id": NO_PREVIEW})
        return call, get, raw, other

    call, get, raw, other = asyncio.run(run())
    assert isinstance(call, CallToolResult) and call.is_error and text(call).startswith("preview_not_found")
    assert get.error.code == -32601
    assert "taskId" not in raw and raw.get("isError") is True  # the 2025-11-25 `task` field runs blocking
    assert isinstance(other, CallToolResult)  # not a task tool: the blocking answer
    assert records(sandbox_settings) == []


# Over HTTP, with tokens


OPERATOR, VIEWER = "operator-token-0123456789", "viewer-token-0123456789ab"
TOKENS = json.dumps(
    {OPERATOR: {"principal": "otto", "roles": ["operator"]}, VIEWER: {"principal": "vera", "roles": ["viewer"]}}
)


@asynccontextmanager
async def http_session(url: str, token: str, rewrite: dict[str, str] | None = None) -> AsyncIterator[ClientSession]:
    """An SDK session with a bearer token; `rewrite` maps an Mcp-Method to the Mcp-Name header it is sent with
    instead of the one the client set (a proxy or a client that names another task or tool than its body)."""

    async def lie(request: httpx2.Request) -> None:
        name = (rewrite or {}).get(request.headers.get("mcp-method", ""))
        if name is not None:
            request.headers["mcp-name"] = name

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=120, event_hooks={"request": [lie]})
    async with (
        http,
        streamable_http_client(f"{url}/mcp", http_client=http) as streams,
        ClientSession(streams[0], streams[1], **tasks.session_options()) as client,  # type: ignore[arg-type]
    ):
        await client.discover()
        yield client


@pytest.mark.slow
def test_over_http_tasks_keep_the_token_principal_and_routing_headers_must_name_the_task(
    sandbox_settings: Settings, start_server: Callable[..., Any]
) -> None:
    server = start_server(sandbox_settings, DATAMCP_MCP_TOKENS=TOKENS)
    engine = Engine(sandbox_settings)

    async def run() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with http_session(server.url, VIEWER) as vera:
            seen["viewer apply"] = await tasks.start(vera, "apply", {"preview_id": NO_PREVIEW})
        seen["records after the viewer"] = records(sandbox_settings)
        async with http_session(server.url, OPERATOR) as otto:
            created = await tasks.start(otto, "preview", {"stack": STACK})
            assert isinstance(created, tasks.Created)
            seen["preview"] = await tasks.wait(otto, created.task_id, timeout=180)
        async with http_session(server.url, VIEWER) as vera:
            seen["viewer get"] = await refusal(tasks.get(vera, created.task_id))
        engine.tasks.put(TaskRecord(task_id="other-0001", owner="vera", tool="preview", ttl_ms=60_000))
        async with http_session(server.url, VIEWER, {"tasks/get": created.task_id}) as vera:
            seen["renamed get"] = await refusal(tasks.get(vera, "other-0001"))  # header: otto's task; body: vera's
        async with http_session(server.url, OPERATOR, {"tools/call": "preview"}) as otto:
            seen["renamed call"] = await refusal(otto.call_tool("apply", {"preview_id": NO_PREVIEW}))
        return seen

    seen = asyncio.run(run())
    viewer_apply = seen["viewer apply"]
    assert isinstance(viewer_apply, CallToolResult) and viewer_apply.is_error
    assert text(viewer_apply).startswith("unknown tool") and seen["records after the viewer"] == []
    preview = seen["preview"]
    assert preview.status == "completed", preview.status_message
    preview_id = json.loads(text(preview.result))["preview_id"]
    previews = [r for r in engine.history(STACK).items if r.tool == Tool.PREVIEW and r.preview_id == preview_id]
    assert [r.user for r in previews] == ["otto"]  # the task ran as the token's principal, not a default user
    assert seen["viewer get"].error.code == -32602
    assert seen["renamed get"].error.code == -32020
    assert seen["renamed call"].error.code == -32020
