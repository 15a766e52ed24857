"""request_apply points the person to the console: the URL in the result always, and through URL-mode elicitation
where the client declared it (the official MCP SDK client over streamable HTTP)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitRequestParams, ElicitResult

from engine.operations import Engine
from engine.settings import Settings

pytestmark = pytest.mark.slow
OPERATOR = "operator-token-0123456789"


async def request_apply(url: str, preview_id: str, elicit: bool) -> tuple[dict[str, Any], list[str]]:
    asked: list[str] = []

    async def on_elicit(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(str(getattr(params, "url", "")))
        return ElicitResult(action="accept")

    http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {OPERATOR}"}, timeout=120)
    callback = {"elicitation_callback": on_elicit} if elicit else {}
    async with (
        http,
        streamable_http_client(url, http_client=http) as streams,
        ClientSession(streams[0], streams[1], **callback) as client,  # type: ignore[arg-type]
    ):
        await client.initialize()
        result = await client.call_tool("request_apply", {"preview_id": preview_id, "reason": "please review"})
    return json.loads(result.content[0].text), asked  # type: ignore[union-attr]


def test_request_apply_gives_the_console_page_and_elicits_it_where_supported(
    sandbox_settings: Settings, start_server: Callable[..., Any]
) -> None:
    preview = Engine(sandbox_settings).preview("gcp-dev", user="otto")
    tokens = {OPERATOR: {"principal": "otto", "roles": ["operator"]}}
    server = start_server(sandbox_settings, DATAMCP_MCP_TOKENS=json.dumps(tokens))
    page = f"{server.url}/console/previews/{preview.preview_id}"
    plain, asked = asyncio.run(request_apply(f"{server.url}/mcp", preview.preview_id, elicit=False))
    assert plain["console_url"] == page and plain["elicitation"] == "not supported" and asked == []
    elicited, asked = asyncio.run(request_apply(f"{server.url}/mcp", preview.preview_id, elicit=True))
    assert elicited["console_url"] == page and elicited["elicitation"] == "accept" and asked == [page]
