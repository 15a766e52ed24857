"""How much the server runs for whom: rate buckets per principal, and a cap on CLI processes (and synth workers)
running at once for all callers together."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from fastmcp.exceptions import ToolError

from engine.access import Principal, RateLimiter

T = TypeVar("T")
POLL_SECONDS = 0.05  # how often a waiting call looks for a free CLI slot
CLIENT_ERROR = logging.INFO  # refusals are the caller's business: logged as one line, never with a traceback


class RateLimit:
    """A token bucket per principal for one kind of work; a refusal names the limit and when to retry."""

    def __init__(self, per_minute: int, what: str, variable: str) -> None:
        self.limiter = RateLimiter(per_minute)
        self.per_minute = per_minute
        self.what = what
        self.variable = variable

    def check(self, principal: Principal) -> None:
        if not self.limiter.allow(principal.name):
            retry = math.ceil(60 / self.per_minute)
            raise ToolError(
                f"rate limit: at most {self.per_minute} {self.what} a minute for {principal.name} "
                f"({self.variable}); retry in {retry} s",
                log_level=CLIENT_ERROR,
            )


class CliSlots:
    """At most `capacity` engine calls that run the CLI or a synth worker at once, whoever asks. A call waits at most
    `wait_seconds` for a slot, then is refused as busy; the slot is freed when the blocking work ends (not when the
    request does), so a cancelled request cannot make room for more processes than the cap."""

    def __init__(self, capacity: int, wait_seconds: float) -> None:
        self.capacity = capacity
        self.wait_seconds = wait_seconds
        self.running = 0
        self.lock = threading.Lock()

    async def start(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """Run `fn` in a worker thread once a slot is free; the returned future ends when `fn` does."""
        deadline = time.monotonic() + self.wait_seconds
        while not self._take():
            if time.monotonic() >= deadline:
                raise ToolError(
                    f"busy: {self.capacity} CLI processes are running for all callers "
                    f"(DATAMCP_MCP_MAX_CONCURRENT_CLI); retry in {max(5, math.ceil(self.wait_seconds))} s",
                    log_level=CLIENT_ERROR,
                )
            await asyncio.sleep(POLL_SECONDS)
        try:
            future = asyncio.get_running_loop().run_in_executor(None, fn)
        except BaseException:
            self._give()
            raise
        future.add_done_callback(lambda _: self._give())
        return future

    def _take(self) -> bool:
        with self.lock:
            if self.running >= self.capacity:
                return False
            self.running += 1
            return True

    def _give(self) -> None:
        with self.lock:
            self.running -= 1
