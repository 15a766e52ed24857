"""Whether a principal may start another task: tasks start at the operations' rate, and a principal has at most a
few unfinished at once in a process. A task returns at once and an apply waiting for people holds no CLI slot and
no rate-limit token yet, so without these one agent could keep thousands of records and approval polls going."""

from __future__ import annotations

from collections.abc import Iterable

from fastmcp.exceptions import ToolError

from engine.access import Principal
from engine.identity import same_principal
from engine.mcpserver.limits import CLIENT_ERROR, RateLimit

MAX_UNFINISHED = 16  # per principal and server process (benchmarks/bench_tasks.py starts 10 at once)
DEFAULT_PER_MINUTE = 30


class Admission:
    def __init__(self, per_minute: int = DEFAULT_PER_MINUTE) -> None:
        self.rate = RateLimit(per_minute, "tasks", "DATAMCP_MCP_RATE_LIMIT_PER_MINUTE")

    def check(self, principal: Principal, unfinished_owners: Iterable[str]) -> None:
        """Refuse (a tool error, nothing stored) past the cap of unfinished tasks or the rate."""
        mine = sum(1 for owner in unfinished_owners if same_principal(owner, principal.name))
        if mine >= MAX_UNFINISHED:
            raise ToolError(
                f"too many tasks: {principal.name} has {mine} unfinished (at most {MAX_UNFINISHED}); "
                "wait for one to end or cancel one with tasks/cancel",
                log_level=CLIENT_ERROR,
            )
        self.rate.check(principal)
