"""The limits on what the server runs: a rate bucket per principal and kind of work, and one cap on CLI processes
for all callers with a bounded wait."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from fastmcp.exceptions import ToolError

from engine.access import Principal
from engine.mcpserver.limits import CliSlots, RateLimit

VERA = Principal(name="vera", roles=["viewer"])
OTTO = Principal(name="otto", roles=["operator"])


def test_a_principal_past_its_bucket_is_refused_with_a_retry_hint() -> None:
    limit = RateLimit(2, "synths", "DATAMCP_MCP_READ_RATE_LIMIT_PER_MINUTE")
    limit.check(VERA)
    limit.check(VERA)
    with pytest.raises(ToolError, match=r"^rate limit: at most 2 synths a minute for vera .*retry in 30 s$"):
        limit.check(VERA)
    limit.check(OTTO)  # another principal has its own bucket


def test_calls_past_the_cli_cap_wait_then_are_refused_busy() -> None:
    slots = CliSlots(capacity=1, wait_seconds=0.3)
    release = threading.Event()

    async def run() -> tuple[str, float, str]:
        holding = await slots.start(lambda: release.wait(30) and "first")
        started = time.monotonic()
        with pytest.raises(ToolError) as refused:
            await slots.start(lambda: "second")
        waited = time.monotonic() - started
        release.set()
        first = await holding
        after = await (await slots.start(lambda: "third"))  # the slot is free once the work ended
        return str(refused.value), waited, f"{first} {after}"

    message, waited, results = asyncio.run(run())
    assert message.startswith("busy: 1 CLI processes are running") and "retry in 5 s" in message
    assert 0.25 <= waited < 5
    assert results == "first third"
    assert slots.running == 0


def test_the_slot_is_held_until_the_work_ends_even_when_the_caller_stops_waiting() -> None:
    slots = CliSlots(capacity=1, wait_seconds=0)
    release = threading.Event()

    async def run() -> None:
        holding = await slots.start(lambda: release.wait(30))
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(holding), timeout=0.1)  # the request gave up; the work runs on
        with pytest.raises(ToolError, match=r"^busy"):
            await slots.start(lambda: None)
        release.set()
        await holding

    asyncio.run(run())
    assert slots.running == 0
