"""Bad paging input over MCP is the caller's typed mistake (`invalid_input`), not a masked internal error."""

from __future__ import annotations

import asyncio

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError

import mcp_server
from engine.mcpserver.settings import McpSettings
from engine.operations import Engine
from engine.settings import Settings


def list_operations_error(settings: Settings, **arguments: object) -> str:
    server = mcp_server.create_server(settings, McpSettings(), engine=Engine(settings))

    async def call() -> str:
        async with Client(server) as client:
            with pytest.raises(ToolError) as info:
                await client.call_tool("list_operations", arguments)
            return str(info.value)

    return asyncio.run(call())


@pytest.mark.parametrize("cursor", ["garbage", "-1", "x" * 4000])
def test_a_made_up_cursor_is_a_typed_invalid_input_error(settings: Settings, cursor: str) -> None:
    message = list_operations_error(settings, cursor=cursor)
    assert message.startswith("invalid_input: ") and "is not a cursor" in message
    assert len(message) < 400


def test_the_first_page_still_lists(settings: Settings) -> None:
    server = mcp_server.create_server(settings, McpSettings(), engine=Engine(settings))

    async def call() -> object:
        async with Client(server) as client:
            return (await client.call_tool("list_operations", {"limit": 5})).structured_content

    assert asyncio.run(call()) == {"items": [], "next_cursor": None}
