"""The preview tools and resources through the official MCP SDK client, over stdio and streamable HTTP, on a saved
preview of 1,000 changes: what an agent reads, the sizes it receives, and nothing for a token without a role."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from engine.mcpserver.presenting import RESULT_LIMIT
from engine.previews import PreviewRecord
from engine.results import PreviewResult
from engine.settings import Settings
from tests.mcpserver.big_preview import PREVIEW_ID, save

pytestmark = pytest.mark.slow


async def answer(session: ClientSession, tool: str, args: dict[str, Any]) -> dict[str, Any]:
    result = await session.call_tool(tool, args)
    text = result.content[0].text  # type: ignore[union-attr]
    assert not result.is_error, text
    assert len(text.encode()) <= RESULT_LIMIT, f"{tool} answered {len(text.encode())} bytes"
    return dict(json.loads(text))


async def read(session: ClientSession, uri: str) -> dict[str, Any]:
    text = (await session.read_resource(uri)).contents[0].text  # type: ignore[union-attr]
    assert len(text.encode()) <= RESULT_LIMIT, f"{uri} is {len(text.encode())} bytes"
    return dict(json.loads(text))


def deletes(record: PreviewRecord) -> list[str]:
    return [c.urn for c in PreviewResult.model_validate(record.result).changes if c.op == "delete"]


def test_over_stdio_a_viewer_pages_through_the_deletes_and_reads_the_policy(
    settings: Settings, server_env: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    record = save(Path(settings.state_dir))
    env = server_env(settings, DATAMCP_DEFAULT_USER="local-dev", DATAMCP_MCP_STDIO_ROLES='["viewer"]')
    server = StdioServerParameters(command=str(Path(sys.executable).with_name("datamcp-mcp")), env=env)

    async def run() -> tuple[set[str], list[str], dict[str, Any], dict[str, Any]]:
        with (tmp_path / "stderr.log").open("w") as errlog:
            async with (
                stdio_client(server, errlog=errlog) as (reader, writer),
                ClientSession(reader, writer) as session,
            ):
                await session.initialize()
                names = {t.name for t in (await session.list_tools()).tools}
                found: list[str] = []
                offset: int | None = 0
                while offset is not None:
                    page = await answer(
                        session, "get_preview", {"preview_id": PREVIEW_ID, "op": "delete", "offset": offset}
                    )
                    found += [c["urn"] for c in page["changes"]]
                    offset = page["next_offset"]
                change = await answer(session, "get_change", {"preview_id": PREVIEW_ID, "urn": found[0]})
                return names, found, change, await read(session, f"preview://{PREVIEW_ID}/policy")

    names, found, change, policy = asyncio.run(run())
    assert {"get_preview", "get_change"} <= names
    assert found == deletes(record) and len(found) == 50
    assert change["op"] == "delete" and {p["path"] for p in change["properties"]} == set(
        record.property_diffs[found[0]]
    )
    assert [r["decision"] for r in policy["rules"]] == ["deny", "require", "warn"]


VIEWER_SUB = "vera@example"


def test_over_http_a_viewer_reads_the_preview_and_a_token_without_a_role_reads_nothing(
    settings: Settings, start_server: Callable[..., Any], jwt_issuer: Any
) -> None:
    save(Path(settings.state_dir))
    server = start_server(settings, **jwt_issuer.env())
    viewer = jwt_issuer.token(sub=VIEWER_SUB, datamcp_roles=["viewer"])
    nobody = jwt_issuer.token(sub="nora@example", datamcp_roles=["superuser"])

    async def session_for(token: str, work: Callable[[ClientSession], Any]) -> Any:
        http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60)
        async with (
            http,
            streamable_http_client(f"{server.url}/mcp", http_client=http) as streams,
            ClientSession(streams[0], streams[1]) as session,
        ):
            await session.initialize()
            return await work(session)

    async def as_viewer(session: ClientSession) -> tuple[dict[str, Any], ...]:
        first = await answer(session, "get_preview", {"preview_id": PREVIEW_ID})
        return (
            first,
            await read(session, f"preview://{PREVIEW_ID}"),
            await read(session, f"preview://{PREVIEW_ID}/policy"),
        )

    async def as_nobody(session: ClientSession) -> tuple[set[str], str, list[str]]:
        names = {t.name for t in (await session.list_tools()).tools}
        refused = await session.call_tool("get_preview", {"preview_id": PREVIEW_ID})
        errors = []
        for uri in (f"preview://{PREVIEW_ID}", f"preview://{PREVIEW_ID}/policy"):
            with pytest.raises(MCPError) as info:
                await session.read_resource(uri)
            errors.append(str(info.value))
        assert refused.is_error
        return names, refused.content[0].text, errors  # type: ignore[union-attr]

    first, resource, policy = asyncio.run(session_for(viewer, as_viewer))
    assert first["total"] == 1_000 and first["changes"] and resource == first
    assert policy["counts"] == {"deny": 3, "require": 50, "warn": 200}
    names, refused, errors = asyncio.run(session_for(nobody, as_nobody))
    assert not names & {"get_preview", "get_change"} and refused.startswith("unknown tool 'get_preview'")
    assert all(e.startswith("no valid credentials") for e in errors), errors
