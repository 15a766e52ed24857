"""Answers sized for an agent (every default result under 16 KB) and hints that name only the caller's tools."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastmcp import Client

import mcp_server
from engine.audit import OperationRecord, now
from engine.mcpserver.presenting import OUTPUT_TAIL, REFS_PAGE, RESULT_LIMIT, fit, operation_detail
from engine.mcpserver.settings import McpSettings
from engine.operations import Engine
from engine.settings import Settings

pytestmark = pytest.mark.slow
TOOL_NAMES = ("request_apply", "apply", "cancel_operation", "destroy")


def server_for(settings: Settings, engine: Engine, **mcp: Any) -> Any:
    return mcp_server.create_server(settings, McpSettings(**mcp), engine=engine)


async def call(server: Any, tool: str, args: dict[str, Any]) -> tuple[dict[str, Any], int]:
    async with Client(server) as client:
        result = await client.call_tool(tool, args)
    text = result.content[0].text  # type: ignore[union-attr]
    return json.loads(text), len(text.encode())


def test_default_results_stay_under_16_kb(sandbox_settings: Settings) -> None:
    engine = Engine(sandbox_settings)
    server = server_for(sandbox_settings, engine, stdio_roles=["operator"])
    preview, preview_size = asyncio.run(call(server, "preview", {"stack": "aws-prod"}))
    assert preview_size <= RESULT_LIMIT and preview["changes_total"] >= len(preview["changes"]) > 0
    for _ in range(3):
        engine.preview("aws-dev", user="alice")
    listed, list_size = asyncio.run(call(server, "list_operations", {"limit": 20}))
    assert list_size <= RESULT_LIMIT and all("resource_refs" not in i for i in listed["items"])
    assert all("resource_count" in i for i in listed["items"])
    one, one_size = asyncio.run(call(server, "get_operation", {"operation_id": preview["operation_id"]}))
    assert one_size <= RESULT_LIMIT and one["resource_count"] == len(one["resource_refs"]) > 0


def test_a_viewer_is_never_told_to_call_a_tool_it_does_not_have(sandbox_settings: Settings) -> None:
    server = server_for(sandbox_settings, Engine(sandbox_settings), stdio_roles=["viewer"])

    async def run() -> tuple[str, str, str]:
        async with Client(server) as client:
            instructions = client.instructions or ""
            preview = (await client.call_tool("preview", {"stack": "gcp-dev"})).structured_content
            prompt = await client.get_prompt("review_preview", {"preview_id": preview["preview_id"]})  # type: ignore[index]
            return instructions, preview["summary"], prompt.messages[0].content.text  # type: ignore[index, union-attr]

    instructions, summary, prompt = asyncio.run(run())
    for text in (instructions, summary, prompt):
        assert not any(name in text for name in TOOL_NAMES), text


def test_an_operator_is_told_the_next_step(sandbox_settings: Settings) -> None:
    server = server_for(sandbox_settings, Engine(sandbox_settings), stdio_roles=["operator"])
    preview, _ = asyncio.run(call(server, "preview", {"stack": "gcp-dev"}))
    assert "call request_apply" in preview["summary"]


def test_a_long_list_is_cut_to_what_fits_and_says_so() -> None:
    data = fit({"summary": "x", "changes": [{"urn": "u" * 300, "i": i} for i in range(500)]}, "changes")
    assert len(json.dumps(data)) <= RESULT_LIMIT and 0 < len(data["changes"]) < 500
    assert data["changes_total"] == 500 and data["changes_truncated"] is True


def test_an_operations_resources_come_in_pages_and_its_output_as_a_tail() -> None:
    refs = [f"urn:pulumi:aws-dev::datamcp::t::r{i}" for i in range(250)]
    record = OperationRecord(
        id="op-1", user="alice", tool="up", status="succeeded", start_ts=now(), resource_refs=refs, stdout="o" * 9_000
    )
    first = operation_detail(record, 0, full_output=False)
    assert first["resource_refs"] == refs[:REFS_PAGE] and first["next_refs_offset"] == REFS_PAGE
    assert len(first["stdout"]) == OUTPUT_TAIL and first["stdout_cut"] is True
    last = operation_detail(record, 200, full_output=True)
    assert last["resource_refs"] == refs[200:] and last["next_refs_offset"] is None and len(last["stdout"]) == 9_000


def test_a_denied_preview_tells_the_agent_what_to_fix_and_offers_no_next_step(sandbox_settings: Settings) -> None:
    config = sandbox_settings.project_root / "Pulumi.aws-dev.yaml"
    config.write_text(config.read_text().replace("force_destroy: true", "force_destroy: true\n    public_access: true"))
    engine = Engine(sandbox_settings)
    server = server_for(sandbox_settings, engine, stdio_roles=["operator"])
    preview, size = asyncio.run(call(server, "preview", {"stack": "aws-dev"}))
    assert size <= RESULT_LIMIT
    denies = [r for r in preview["policy"]["results"] if r["decision"] == "deny"]
    assert denies and all(r["remediation"] and r["urn"] for r in denies)
    assert "DENIES" in preview["summary"] and "request_apply" not in preview["summary"]
    assert {r["id"] for r in denies} <= set(preview["summary"].split("(")[1].split(")")[0].split(", "))
