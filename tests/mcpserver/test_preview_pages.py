"""A saved preview of 1,000 changes read through the viewer's tools and resources (FastMCP's in-memory client):
pages cover every change once, filters keep exactly what matches, one change's property diff is cut where 16 KB
are reached and says so, every answer stays under 16 KB, and bad input is refused briefly."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastmcp import Client
from fastmcp.exceptions import ToolError
from pydantic import SecretStr

import mcp_server
from engine.mcpserver.presenting import RESULT_LIMIT, bounded_preview
from engine.mcpserver.settings import McpSettings
from engine.operations import Engine
from engine.previews import PreviewRecord, PreviewStore
from engine.results import PreviewResult, ResourceChange
from engine.settings import Settings
from tests.mcpserver.big_preview import GROUPS, PREVIEW_ID, STACK, TYPES, WIDE_EVERY, build

LONG = "Q" * 10_000  # a caller's long bad input; "Q" appears nowhere else in answers
CHANGING_TOOLS = ("request_apply", "apply", "cancel_operation", "destroy")


@pytest.fixture(scope="module")
def record() -> PreviewRecord:
    return build()


@pytest.fixture
def changes(record: PreviewRecord) -> list[ResourceChange]:
    return PreviewResult.model_validate(record.result).changes


@pytest.fixture
def viewer(settings: Settings, record: PreviewRecord) -> Callable[[Callable[[Client[Any]], Awaitable[Any]]], Any]:
    """Run `session(client)` against a server whose local caller is a viewer, on a state dir holding the preview."""
    PreviewStore(Path(settings.state_dir) / "previews").save(record)
    server = mcp_server.create_server(settings, McpSettings(stdio_roles=["viewer"]), engine=Engine(settings))

    def run(session: Callable[[Client[Any]], Awaitable[Any]]) -> Any:
        async def inner() -> Any:
            async with Client(server) as client:
                return await session(client)

        return asyncio.run(inner())

    return run


async def answer(client: Client[Any], tool: str, args: dict[str, Any]) -> dict[str, Any]:
    """A tool's answer, after checking its size as the client receives it."""
    text = (await client.call_tool(tool, args)).content[0].text  # type: ignore[union-attr]
    assert len(text.encode()) <= RESULT_LIMIT, f"{tool} answered {len(text.encode())} bytes"
    return dict(json.loads(text))


async def all_pages(client: Client[Any], **args: Any) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        pages.append(await answer(client, "get_preview", {"preview_id": PREVIEW_ID, **args, "offset": offset}))
        offset = pages[-1]["next_offset"]
    return pages


async def read(client: Client[Any], uri: str) -> dict[str, Any]:
    text = (await client.read_resource(uri))[0].text  # type: ignore[union-attr]
    assert len(text.encode()) <= RESULT_LIMIT, f"{uri} is {len(text.encode())} bytes"
    return dict(json.loads(text))


@pytest.mark.parametrize("limit", [50, 100])
def test_the_pages_of_1000_changes_hold_every_change_once_in_order(
    viewer: Any, changes: list[ResourceChange], limit: int
) -> None:
    pages = viewer(lambda client: all_pages(client, limit=limit))
    urns = [c["urn"] for p in pages for c in p["changes"]]
    assert urns == [c.urn for c in changes] and len(urns) == 1_000
    assert all(0 < len(p["changes"]) <= limit and p["total"] == 1_000 for p in pages)
    assert "summary" in pages[0] and all("summary" not in p for p in pages[1:])  # the head once, on the first page


@pytest.mark.parametrize(
    "filters",
    [
        {"op": "delete"},
        {"op": "replace"},
        {"op": "read"},
        {"type": TYPES[4]},
        {"urn_prefix": f"urn:pulumi:{STACK}::datamcp::{GROUPS[1]}$"},
        {"op": "replace", "type": TYPES[2], "urn_prefix": f"urn:pulumi:{STACK}::datamcp::{GROUPS[1]}$"},
    ],
)
def test_filters_keep_exactly_the_matching_changes(
    viewer: Any, changes: list[ResourceChange], filters: dict[str, str]
) -> None:
    def matches(c: ResourceChange) -> bool:
        return (
            c.op == filters.get("op", c.op)
            and c.type == filters.get("type", c.type)
            and c.urn.startswith(filters.get("urn_prefix", ""))
        )

    pages = viewer(lambda client: all_pages(client, **filters))
    expected = [c.urn for c in changes if matches(c)]
    assert [c["urn"] for p in pages for c in p["changes"]] == expected
    assert all(p["total"] == len(expected) for p in pages)
    assert len(expected) < 1_000 and (expected or filters == {"op": "read"})


def test_a_change_comes_with_its_masked_property_diff_and_the_findings_on_it(
    viewer: Any, record: PreviewRecord, changes: list[ResourceChange]
) -> None:
    bucket = next(c for c in changes if c.type == TYPES[0] and c.op == "update" and len(c.changed_keys) < 50)
    detail = viewer(lambda client: answer(client, "get_change", {"preview_id": PREVIEW_ID, "urn": bucket.urn}))
    diff = record.property_diffs[bucket.urn]
    assert {p["path"]: {"old": p["old"], "new": p["new"]} for p in detail["properties"]} == diff
    assert detail["properties_total"] == len(diff) and detail["next_offset"] is None and "cut" not in detail
    assert {p["path"]: p["new"] for p in detail["properties"]}["password"] == "[secret]"
    assert all(p["kind"] == "update" for p in detail["properties"] if p["path"] != "password")
    assert [f["id"] for f in detail["policy_findings"]] == ["DM-S3-002"]


def test_a_wide_property_diff_is_cut_at_16_kb_says_so_and_pages_on(viewer: Any, record: PreviewRecord) -> None:
    wide = next(urn for urn, diff in record.property_diffs.items() if len(diff) > WIDE_EVERY)

    async def pages(client: Client[Any]) -> list[dict[str, Any]]:
        found, offset = [], 0
        while offset is not None:
            found.append(await answer(client, "get_change", {"preview_id": PREVIEW_ID, "urn": wide, "offset": offset}))
            offset = found[-1]["next_offset"]
        return found

    found = viewer(pages)
    assert len(found) > 1
    assert re.fullmatch(r"properties 1-(\d+) of 301 shown; call get_change with offset=\1 for more", found[0]["cut"])
    paths = [p["path"] for page in found for p in page["properties"]]
    assert paths == list(record.property_diffs[wide])


def test_the_preview_resource_is_the_first_page_and_the_policy_resource_groups_the_findings(
    viewer: Any, record: PreviewRecord
) -> None:
    async def session(client: Client[Any]) -> tuple[dict[str, Any], ...]:
        first = await answer(client, "get_preview", {"preview_id": PREVIEW_ID})
        return (
            first,
            await read(client, f"preview://{PREVIEW_ID}"),
            await read(client, f"preview://{PREVIEW_ID}/policy"),
        )

    first, resource, policy = viewer(session)
    assert resource == first and resource["policy"]["denied"] == ["DM-PUBLIC-001"]
    assert [(r["id"], r["decision"], r["count"]) for r in policy["rules"]] == [
        ("DM-PUBLIC-001", "deny", 3),
        ("DM-RISK-001", "require", 50),
        ("DM-S3-002", "warn", 200),
    ]
    assert policy["rules"][2]["urns_total"] == 200 and len(policy["rules"][2]["urns"]) == 10
    assert policy["waived"] == [{"id": "DM-TAG-001", "reason": "tags come later", "count": 60}]
    assert policy["requires"] == [{"role": "approver", "approvals": 2, "rules": ["DM-RISK-001"]}]


def test_the_preview_result_of_1000_changes_stays_under_16_kb(record: PreviewRecord) -> None:
    data = bounded_preview(PreviewResult.model_validate(record.result))
    assert len(json.dumps(data)) <= RESULT_LIMIT
    assert data["changes_total"] == 1_000 and 0 < len(data["changes"]) < 1_000
    assert data["diagnostics_total"] == 80 and data["diagnostics_truncated"] is True
    assert data["policy"]["results_total"] == 253 and data["policy"]["waived_total"] == 60


@pytest.mark.parametrize(
    ("tool", "args", "message"),
    [
        ("get_preview", {"preview_id": "no-such-preview"}, "preview_not_found: no preview 'no-such-preview'"),
        ("get_preview", {"preview_id": "../../etc/passwd"}, "pattern"),
        ("get_preview", {"preview_id": LONG}, "at most 64 characters"),
        ("get_preview", {"preview_id": PREVIEW_ID, "op": "explode"}, "Input should be 'create', 'update'"),
        ("get_preview", {"preview_id": PREVIEW_ID, "type": "aws s3 bucket"}, "pattern"),
        ("get_preview", {"preview_id": PREVIEW_ID, "urn_prefix": "arn:aws:s3:::bucket"}, "pattern"),
        ("get_preview", {"preview_id": PREVIEW_ID, "urn_prefix": LONG}, "at most 1024 characters"),
        ("get_preview", {"preview_id": PREVIEW_ID, "limit": 1_000}, "less than or equal to 100"),
        ("get_preview", {"preview_id": PREVIEW_ID, "offset": -1}, "greater than or equal to 0"),
        (
            "get_change",
            {"preview_id": PREVIEW_ID, "urn": f"urn:pulumi:{STACK}::datamcp::t::gone"},
            "changes no resource",
        ),
        ("get_change", {"preview_id": PREVIEW_ID, "urn": "urn:pulumi:" + LONG}, "at most 1024 characters"),
    ],
)
def test_bad_ids_and_filters_are_refused_briefly(viewer: Any, tool: str, args: dict[str, Any], message: str) -> None:
    async def session(client: Client[Any]) -> str:
        with pytest.raises(ToolError) as refused:
            await client.call_tool(tool, args)
        return str(refused.value)

    error = viewer(session)
    assert message in error and len(error) < 1_000 and "Q" * 101 not in error


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("preview://no-such-preview", "preview_not_found"),
        ("preview://no-such-preview/policy", "preview_not_found"),
        ("preview://bad_id!/policy", "is not a preview id"),
        (f"preview://{LONG}", "unknown resource"),
    ],
)
def test_an_unknown_preview_resource_is_refused_briefly(viewer: Any, uri: str, message: str) -> None:
    async def session(client: Client[Any]) -> str:
        with pytest.raises(Exception, match=message) as refused:
            await client.read_resource(uri)
        return str(refused.value)

    assert len(viewer(session)) < 600


def test_a_caller_without_a_role_sees_no_preview(settings: Settings, record: PreviewRecord) -> None:
    """Over HTTP without a token that carries a known role (here: no token at all, in memory) nothing is shown."""
    PreviewStore(Path(settings.state_dir) / "previews").save(record)
    tokens = SecretStr(json.dumps({"viewer-token-0123456789": {"principal": "vera", "roles": ["viewer"]}}))
    server = mcp_server.create_server(settings, McpSettings(tokens=tokens), transport="http", engine=Engine(settings))

    async def session() -> tuple[set[str], str, list[str]]:
        async with Client(server) as client:
            names = {t.name for t in await client.list_tools()}
            refused = await client.call_tool("get_preview", {"preview_id": PREVIEW_ID}, raise_on_error=False)
            errors = []
            for uri in (f"preview://{PREVIEW_ID}", f"preview://{PREVIEW_ID}/policy"):
                with pytest.raises(Exception, match="no valid credentials") as info:
                    await client.read_resource(uri)
                errors.append(str(info.value))
            return names, str(refused.content[0].text), errors  # type: ignore[union-attr]

    names, refused, errors = asyncio.run(session())
    assert not names & {"get_preview", "get_change"}
    assert refused.startswith("unknown tool 'get_preview'")
    assert all("change_summary" not in e and "DM-" not in e for e in errors)


def test_a_viewer_has_the_preview_tools(viewer: Any) -> None:
    async def session(client: Client[Any]) -> dict[str, Any]:
        return {t.name: t.annotations for t in await client.list_tools()}

    tools = viewer(session)
    assert tools["get_preview"].read_only_hint is True and tools["get_change"].read_only_hint is True


def test_the_review_prompt_leads_through_the_risky_changes_first(viewer: Any) -> None:
    async def session(client: Client[Any]) -> str:
        prompt = await client.get_prompt("review_preview", {"preview_id": PREVIEW_ID})
        return str(prompt.messages[0].content.text)  # type: ignore[union-attr]

    text = viewer(session)
    steps = [text.index(s) for s in ("op='delete'", "op='replace'", "get_change", f"preview://{PREVIEW_ID}/policy")]
    assert steps == sorted(steps)
    assert not any(name in text for name in CHANGING_TOOLS), text


def test_a_preview_no_recorded_operation_made_is_flagged(viewer: Any) -> None:
    """The 1,000-change fixture was written straight into the store, as an agent with a shell could plant it."""
    first = viewer(lambda client: answer(client, "get_preview", {"preview_id": PREVIEW_ID}))
    assert first["recorded"] is False and first["summary"].startswith("WARNING: no preview operation")
