from __future__ import annotations

import asyncio
from typing import Any

from fastmcp import Client

import mcp_server
from engine.settings import Settings


def _call(settings: Settings, tool: str, args: dict[str, Any]) -> Any:
    async def run() -> Any:
        async with Client(mcp_server.create_server(settings)) as client:
            tools = {t.name: t for t in await client.list_tools()}
            result = await client.call_tool(tool, args)
            return tools, result.structured_content

    return asyncio.run(run())


def test_check_toolchain_is_read_only_and_reports_ok(settings: Settings) -> None:
    tools, content = _call(settings, "check_toolchain", {})
    assert tools["check_toolchain"].annotations.read_only_hint is True
    assert content["ok"] is True
    assert {c["name"] for c in content["checks"]} >= {"pulumi", "helm", "backend", "audit"}
