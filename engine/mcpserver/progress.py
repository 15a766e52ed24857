"""The bridge from engine progress (reported on a worker thread) to MCP progress notifications."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastmcp import Context

from engine.results import ProgressEvent
from engine.vocabulary import ProgressKind, urn_name

REPORTED = (ProgressKind.RESOURCE_STARTED, ProgressKind.RESOURCE_FINISHED)


class ProgressBridge:
    """Queues the engine's events from its thread and sends them from the request's own task, which holds the
    request context that notifications need."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[ProgressEvent] = asyncio.Queue()

    def __call__(self, event: ProgressEvent) -> None:
        if event.kind in REPORTED:
            self.loop.call_soon_threadsafe(self.queue.put_nowait, event)

    @contextlib.asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Send events while the body runs; on the way out send what is still queued."""
        pump = asyncio.create_task(self._pump())
        try:
            yield
        finally:
            while not self.queue.empty():
                await self._send(self.queue.get_nowait())
            pump.cancel()

    async def _pump(self) -> None:
        while True:
            await self._send(await self.queue.get())

    async def _send(self, event: ProgressEvent) -> None:
        message = f"{event.op} {urn_name(event.urn or '')}"
        with contextlib.suppress(Exception):
            await self.ctx.report_progress(progress=event.done, total=event.total, message=message)
