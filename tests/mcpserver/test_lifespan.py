"""The HTTP app's lifespan: the server is warmed up before start-up completes, so no client's first call pays for it."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

import pytest
from fastmcp import FastMCP

from engine.mcpserver import server as server_module
from engine.mcpserver.server import ServerLifespan


def test_the_server_is_warmed_up_before_start_up_completes(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []

    async def warm_up(server: FastMCP) -> None:
        events.append("warmed")

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})

    async def receive() -> dict[str, str]:
        return {"type": "lifespan.startup"}

    async def send(message: dict[str, str]) -> None:
        events.append(message["type"])

    monkeypatch.setattr(server_module, "warm_up", warm_up)
    asyncio.run(ServerLifespan(inner, FastMCP("x"))({"type": "lifespan"}, receive, send))
    assert events == ["warmed", "lifespan.startup.complete"]


def test_warming_up_touches_the_session_state_store() -> None:
    touched: list[str] = []
    server = FastMCP("x")

    class Store:
        async def get(self, key: str) -> None:
            touched.append(key)

    server._FastMCP__state_store = Store()  # type: ignore[attr-defined]
    gc.unfreeze()
    try:
        asyncio.run(server_module.warm_up(server))
        assert touched == ["datamcp:warm-up"]
        assert {"stacks.aws", "stacks.gcp", "stacks.k8s", "stacks.scale"} <= set(sys.modules)  # every program
        assert gc.get_freeze_count() > 10_000  # what was loaded before serving is out of the collector's sight
    finally:
        gc.unfreeze()
