"""The MCP server: FastMCP's in-memory client, the real HTTP server as a subprocess on a free port, and stdio."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastmcp import Client
from fastmcp.client.auth import BearerAuth
from fastmcp.exceptions import ToolError
from pydantic import SecretStr

import mcp_server
from engine.mcpserver.settings import McpSettings
from engine.operations import Engine
from engine.sandbox.inventory import Inventory
from engine.settings import Settings

pytestmark = pytest.mark.slow
DEV_REPO_TOKEN = "ghp_sandboxDevTokenNotReal0123456789abcd"
VIEWER_TOOLS = {
    "list_stacks",
    "describe_stack",
    "get_outputs",
    "synth",
    "preview",
    "check_drift",
    "get_operation",
    "list_operations",
    "get_preview",
    "get_change",
    "check_toolchain",
}
OPERATOR_TOOLS = VIEWER_TOOLS | {"request_apply", "apply", "cancel_operation"}


def server_for(settings: Settings, **mcp: Any) -> Any:
    return mcp_server.create_server(settings, McpSettings(**mcp), engine=Engine(settings))


def deploy(engine: Engine, stack: str) -> None:
    """Put the stack up through the engine: preview, another person's approval, up."""
    preview = engine.preview(stack, user="someone")
    approval = engine.approve(preview.preview_id, approver="other")
    engine.up(stack, user="someone", preview_id=preview.preview_id, approval_id=approval.approval_id)


async def tool_names(server: Any) -> set[str]:
    async with Client(server) as client:
        return {t.name for t in await client.list_tools()}


def test_tools_listed_per_role_and_mode(sandbox_settings: Settings) -> None:
    s = sandbox_settings
    assert asyncio.run(tool_names(server_for(s, stdio_roles=["viewer"]))) == VIEWER_TOOLS
    assert asyncio.run(tool_names(server_for(s, stdio_roles=["operator"]))) == OPERATOR_TOOLS
    assert asyncio.run(tool_names(server_for(s, stdio_roles=["admin"]))) == OPERATOR_TOOLS  # destroy is off
    admin = server_for(s, stdio_roles=["admin"], enable_destroy=True)
    assert asyncio.run(tool_names(admin)) == OPERATOR_TOOLS | {"destroy"}
    operator = server_for(s, stdio_roles=["operator"], enable_destroy=True)
    assert "destroy" not in asyncio.run(tool_names(operator))
    read_only = server_for(s, stdio_roles=["admin"], enable_destroy=True, read_only=True)
    assert asyncio.run(tool_names(read_only)) == VIEWER_TOOLS
    assert "approve" not in asyncio.run(tool_names(admin))


def test_unknown_roles_are_an_error_at_start_up(sandbox_settings: Settings) -> None:
    from engine.errors import SettingsError

    with pytest.raises(SettingsError, match="unknown role 'superuser'"):
        server_for(sandbox_settings, stdio_roles=["superuser"])
    with pytest.raises(SettingsError, match="unknown role"):
        mcp_server.create_server(
            sandbox_settings,
            McpSettings(tokens=SecretStr(json.dumps({"t0ken-value": {"principal": "x", "roles": ["root"]}}))),
            transport="http",
        )


def test_annotations_are_truthful(sandbox_settings: Settings) -> None:
    async def run() -> dict[str, Any]:
        async with Client(server_for(sandbox_settings, stdio_roles=["admin"], enable_destroy=True)) as c:
            return {t.name: t.annotations for t in await c.list_tools()}

    notes = asyncio.run(run())
    for name in VIEWER_TOOLS:
        assert notes[name].read_only_hint is True, name
    for name in ("apply", "destroy"):
        assert notes[name].read_only_hint is False and notes[name].destructive_hint is True
    assert notes["request_apply"].destructive_hint is False and notes["request_apply"].read_only_hint is False


def test_preview_apply_flow_with_progress_refusal_and_approval(sandbox_settings: Settings) -> None:
    s = sandbox_settings
    engine = Engine(s)
    server = mcp_server.create_server(s.model_copy(update={"default_user": "agent"}), engine=engine)
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append((done, total, message))

    async def flow() -> tuple[dict[str, Any], str, dict[str, Any]]:
        async with Client(server) as client:
            preview = (
                await client.call_tool("preview", {"stack": "aws-dev"}, progress_handler=on_progress)
            ).structured_content
            refused = await client.call_tool("apply", {"preview_id": preview["preview_id"]}, raise_on_error=False)
            assert refused.is_error
            request = (
                await client.call_tool(
                    "request_apply", {"preview_id": preview["preview_id"], "reason": "roll out the dev stack"}
                )
            ).structured_content
            engine.approve(preview["preview_id"], approver="human-reviewer")
            applied = (await client.call_tool("apply", {"preview_id": preview["preview_id"]})).structured_content
            return preview, refused.content[0].text + json.dumps(request), applied

    preview, refusal, applied = asyncio.run(flow())
    assert preview["preview_id"] and preview["change_summary"]["create"] > 40
    assert "request_apply" in preview["summary"]
    assert len(progress) > 10 and max(done for done, _, _ in progress) > 0
    assert "approval_required" in refusal and "datamcp approve" in refusal
    assert applied["applied"] is True
    assert len(Inventory(s.sandbox_dir).list("datamcp", "aws-dev")) > 40  # type: ignore[arg-type]
    tools = [(r.tool, r.status, r.user) for r in reversed(engine.list_operations(limit=20).items)]
    assert ("up", "refused", "agent") in tools and ("up", "succeeded", "agent") in tools
    assert ("request-apply", "succeeded", "agent") in tools


def test_destroy_reports_progress_in_both_steps(sandbox_settings: Settings) -> None:
    s = sandbox_settings
    engine = Engine(s)
    deploy(engine, "gcp-dev")
    server = mcp_server.create_server(
        s.model_copy(update={"default_user": "agent"}),
        McpSettings(stdio_roles=["admin"], enable_destroy=True),
        engine=engine,
    )
    messages: dict[str, list[str]] = {"planned": [], "destroyed": []}

    def recorder(step: str) -> Any:
        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            messages[step].append(message or "")

        return on_progress

    async def flow() -> tuple[dict[str, Any], dict[str, Any]]:
        async with Client(server) as client:
            args: dict[str, Any] = {"stack": "gcp-dev"}
            planned = await client.call_tool("destroy", args, progress_handler=recorder("planned"))
            preview_id = planned.structured_content["preview"]["preview_id"]
            for person in ("human-reviewer", "second-reviewer"):  # a stateful delete needs two (DM-RISK-001)
                engine.approve(preview_id, approver=person)
            destroyed = await client.call_tool(
                "destroy", {**args, "preview_id": preview_id}, progress_handler=recorder("destroyed")
            )
            return planned.structured_content, destroyed.structured_content

    planned, destroyed = asyncio.run(flow())
    assert planned["applied"] is False and destroyed["applied"] is True
    assert any(m.startswith("delete ") for m in messages["planned"])
    assert any(m.startswith("delete ") for m in messages["destroyed"])


def test_self_approval_cannot_be_applied(sandbox_settings: Settings) -> None:
    engine = Engine(sandbox_settings)
    server = mcp_server.create_server(sandbox_settings.model_copy(update={"default_user": "agent"}), engine=engine)

    async def run() -> str:
        async with Client(server) as client:
            preview = (await client.call_tool("preview", {"stack": "gcp-dev"})).structured_content
            with pytest.raises(Exception, match="cannot approve"):
                engine.approve(preview["preview_id"], approver="agent")
            result = await client.call_tool("apply", {"preview_id": preview["preview_id"]}, raise_on_error=False)
            return str(result.content[0].text)

    assert "approval_required" in asyncio.run(run())
    assert Inventory(sandbox_settings.sandbox_dir).list("datamcp", "gcp-dev") == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("preview", {"stack": "../etc"}, "pattern"),
        ("preview", {"stack": 42}, "string"),
        ("preview", {}, "required"),
        ("request_apply", {"preview_id": "abcdefgh-1234", "reason": "x" * 5000}, "at most 2000"),
        ("preview", {"stack": "gcp-dev", "targets": ["urn:pulumi:gcp-dev::datamcp::t::n"] * 51}, "at most 50"),
        ("synth", {"stack": "gcp-dev", "limit": 1000}, "less than or equal to 100"),
    ],
)
def test_malformed_and_oversized_arguments_are_rejected(
    sandbox_settings: Settings, tool: str, args: dict[str, Any], message: str
) -> None:
    async def run() -> str:
        async with Client(server_for(sandbox_settings)) as client:
            with pytest.raises(ToolError) as info:
                await client.call_tool(tool, args)
            return str(info.value)

    assert message in asyncio.run(run())


def test_secrets_never_appear_in_tool_results_or_resources(sandbox_settings: Settings) -> None:
    engine = Engine(sandbox_settings)
    deploy(engine, "aws-dev")

    async def run() -> str:
        out = []
        async with Client(mcp_server.create_server(sandbox_settings, engine=engine)) as client:
            for tool, args in (
                ("describe_stack", {"stack": "aws-dev"}),
                ("get_outputs", {"stack": "aws-dev"}),
                ("preview", {"stack": "aws-dev"}),
                ("check_drift", {"stack": "aws-dev"}),
                ("list_operations", {}),
                ("synth", {"stack": "aws-dev", "include_inputs": True, "limit": 100}),
            ):
                out.append(json.dumps((await client.call_tool(tool, args)).structured_content))
            out.append(str(await client.read_resource("stack://aws-dev/outputs")))
            ops = engine.list_operations(limit=1).items[0].id
            out.append(str(await client.read_resource(f"ops://{ops}")))
        return "".join(out)

    text = asyncio.run(run())
    assert DEV_REPO_TOKEN not in text
    assert '"kubeconfig": "[secret]"' in text


STALL = json.dumps({"stall_check": "network-vpc", "stall_seconds": "20"})  # a preview of gcp-dev hangs for 20 s


async def until(check: Callable[[], object], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"not within {seconds} s"
        await asyncio.sleep(0.1)


async def cancel_and_wait(task: asyncio.Task[Any], engine: Engine) -> None:
    """Cancel a client's call and wait until the engine operation it started has ended."""
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await until(lambda: not engine.audit.running(), 30)


def test_a_cancelled_preview_ends_cancelled_and_leaves_the_stack_unlocked(
    sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAMCP_SANDBOX_FAULTS", STALL)
    engine = Engine(sandbox_settings)
    server = mcp_server.create_server(sandbox_settings, engine=engine)

    async def run() -> None:
        async with Client(server) as client:
            task = asyncio.create_task(client.call_tool("preview", {"stack": "gcp-dev"}))
            await until(engine.audit.running, 20)  # the operation started: a cancel from now on ends it cancelled
            await cancel_and_wait(task, engine)

    asyncio.run(run())
    previews = [r for r in engine.list_operations(limit=10).items if r.tool == "preview"]
    assert previews[0].status == "cancelled"
    assert engine.locks.holder("gcp-dev") is None
    monkeypatch.delenv("DATAMCP_SANDBOX_FAULTS")
    assert engine.preview("gcp-dev", user="after").has_changes


def test_cli_calls_past_the_global_cap_wait_then_are_refused_busy(
    sandbox_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAMCP_SANDBOX_FAULTS", STALL)
    engine = Engine(sandbox_settings)
    settings = McpSettings(max_concurrent_cli=1, cli_wait_seconds=0.5)
    server = mcp_server.create_server(sandbox_settings, settings, engine=engine)

    async def run() -> tuple[str, float, Any]:
        async with Client(server) as client:
            stalled = asyncio.create_task(client.call_tool("preview", {"stack": "gcp-dev"}))
            await until(engine.audit.running, 20)
            started = asyncio.get_running_loop().time()
            refused = await client.call_tool("synth", {"stack": "aws-dev"}, raise_on_error=False)
            waited = asyncio.get_running_loop().time() - started
            served = await client.call_tool("get_outputs", {"stack": "aws-dev"})  # state reads never wait for a slot
            await cancel_and_wait(stalled, engine)
            return str(refused.content[0].text), waited, served.structured_content

    refused, waited, served = asyncio.run(run())
    assert refused.startswith("busy: 1 CLI processes are running") and refused.endswith("retry in 5 s")
    assert 0.4 < waited < 5 and served == {}


def test_two_clients_preview_different_stacks_at_once(sandbox_settings: Settings) -> None:
    server = server_for(sandbox_settings)

    async def one(stack: str) -> dict[str, Any]:
        async with Client(server) as client:
            return (await client.call_tool("preview", {"stack": stack})).structured_content  # type: ignore[return-value]

    async def both() -> list[dict[str, Any]]:
        return list(await asyncio.gather(one("aws-dev"), one("gcp-dev")))

    aws, gcp = asyncio.run(both())
    assert aws["stack"] == "aws-dev" and gcp["stack"] == "gcp-dev"
    assert all(c["urn"].startswith("urn:pulumi:aws-dev::") for c in aws["changes"])
    assert all(c["urn"].startswith("urn:pulumi:gcp-dev::") for c in gcp["changes"])


# --- the real HTTP server ----------------------------------------------------------------------------------------

TOKENS = {
    "viewer-token-0123456789": {"principal": "vera", "roles": ["viewer"]},
    "operator-token-0123456789": {"principal": "otto", "roles": ["operator"]},
    "admin-token-0123456789": {"principal": "ada", "roles": ["admin"]},
}


@pytest.fixture
def http_server(sandbox_settings: Settings, start_server: Callable[..., Any]) -> str:
    return str(start_server(sandbox_settings, DATAMCP_MCP_TOKENS=json.dumps(TOKENS)).url)


def test_http_requires_a_valid_bearer_token(http_server: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    assert httpx.post(http_server + "/mcp", json=body, headers=headers).status_code == 401
    wrong = {**headers, "Authorization": "Bearer not-a-real-token"}
    assert httpx.post(http_server + "/mcp", json=body, headers=wrong).status_code == 401


def test_http_roles_and_the_principal_on_record(http_server: str, sandbox_settings: Settings) -> None:
    async def run() -> tuple[set[str], set[str], str, str]:
        async with Client(http_server + "/mcp", auth=BearerAuth("viewer-token-0123456789")) as viewer:
            viewer_tools = {t.name for t in await viewer.list_tools()}
            preview = (await viewer.call_tool("preview", {"stack": "gcp-dev"})).structured_content
            denied = await viewer.call_tool("apply", {"preview_id": preview["preview_id"]}, raise_on_error=False)
        async with Client(http_server + "/mcp", auth=BearerAuth("operator-token-0123456789")) as operator:
            operator_tools = {t.name for t in await operator.list_tools()}
            asked = (
                await operator.call_tool("request_apply", {"preview_id": preview["preview_id"], "reason": "please"})
            ).structured_content
        return viewer_tools, operator_tools, denied.content[0].text, json.dumps(asked)

    viewer_tools, operator_tools, denied, asked = asyncio.run(run())
    assert viewer_tools == VIEWER_TOOLS and operator_tools == OPERATOR_TOOLS
    assert "apply" in denied.lower() and ("unknown" in denied.lower() or "not" in denied.lower())
    assert "datamcp approve" in asked
    ops = Engine(sandbox_settings).list_operations(limit=10).items
    assert {(r.tool, r.user) for r in ops} >= {("preview", "vera"), ("request-apply", "otto")}


def test_previews_are_rate_limited_per_principal(sandbox_settings: Settings) -> None:
    server = server_for(sandbox_settings, rate_limit_per_minute=1)

    async def run() -> str:
        async with Client(server) as client:
            await client.call_tool("preview", {"stack": "gcp-dev"})
            with pytest.raises(ToolError) as info:
                await client.call_tool("preview", {"stack": "gcp-dev"})
            return str(info.value)

    assert "rate limit" in asyncio.run(run())


def test_stdio_server_serves_the_local_user(sandbox_settings: Settings, server_env: Callable[..., Any]) -> None:
    from fastmcp.client.transports import StdioTransport

    env = server_env(sandbox_settings, DATAMCP_DEFAULT_USER="local-dev")
    transport = StdioTransport(command=str(Path(sys.executable).with_name("datamcp-mcp")), args=[], env=env)

    async def run() -> tuple[set[str], dict[str, Any]]:
        async with Client(transport) as client:
            names = {t.name for t in await client.list_tools()}
            stacks = (await client.call_tool("describe_stack", {"stack": "gcp-dev"})).structured_content
            return names, stacks  # type: ignore[return-value]

    names, described = asyncio.run(run())
    assert names == OPERATOR_TOOLS
    assert described["name"] == "gcp-dev" and described["deployed"] is False


def test_stdio_roles_limit_the_local_user_too(sandbox_settings: Settings, server_env: Callable[..., Any]) -> None:
    """FastMCP skips tool auth over stdio; the server's own gate still holds the local user to its roles."""
    from fastmcp.client.transports import StdioTransport

    env = server_env(sandbox_settings, DATAMCP_DEFAULT_USER="local-dev", DATAMCP_MCP_STDIO_ROLES='["viewer"]')
    transport = StdioTransport(command=str(Path(sys.executable).with_name("datamcp-mcp")), args=[], env=env)

    async def run() -> tuple[set[str], str]:
        async with Client(transport) as client:
            names = {t.name for t in await client.list_tools()}
            refused = await client.call_tool(
                "request_apply", {"preview_id": "abcdefgh-1234", "reason": "please"}, raise_on_error=False
            )
            return names, str(refused.content[0].text)

    names, refused = asyncio.run(run())
    assert names == VIEWER_TOOLS
    assert refused.startswith("unknown tool 'request_apply'")
    assert not [r for r in Engine(sandbox_settings).list_operations(limit=10).items if r.tool == "request-apply"]
