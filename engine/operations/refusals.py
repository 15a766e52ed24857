"""Refused attempts on record, bounded: bad input to a mutating operation leaves one short record, and a flood of
them from one caller is rate-limited into a count instead of filling the trail."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from engine.access import RateLimiter
from engine.audit import OperationRecord, now
from engine.audit.trail import AuditTrail
from engine.errors import DataMcpError, InvalidIdentity, InvalidInput
from engine.identity import normalize_principal
from engine.operations.context import HOST
from engine.vocabulary import Status, echo

PER_MINUTE = 20  # refusals recorded per caller per minute; the rest are counted into the next record


class RefusalLog:
    def __init__(self, audit: AuditTrail, per_minute: int = PER_MINUTE) -> None:
        self.audit = audit
        self.limiter = RateLimiter(per_minute)
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    @contextmanager
    def guard(self, tool: str, stack: object, user: str, params: dict[str, Any]) -> Iterator[None]:
        """Record invalid input raised inside the block (then let it through)."""
        try:
            yield
        except InvalidInput as exc:
            self.record(tool, stack, user, params, exc)
            raise

    def record(self, tool: str, stack: object, user: str, params: dict[str, Any], exc: DataMcpError) -> None:
        who = _who(user)
        suppressed = self._admit(who)
        if suppressed is None:
            return
        record = OperationRecord(
            id=f"refused-{time.time_ns()}",
            user=who,
            tool=tool,
            stack=echo(stack) if not isinstance(stack, str) or len(stack) > 63 else stack,
            params={k: v if len(repr(v)) <= 100 else echo(v) for k, v in params.items()},
            status=Status.REFUSED,
            start_ts=now(),
            end_ts=now(),
            error=exc.message[:300],
            summary={"suppressed_before": suppressed} if suppressed else {},
            host=HOST,
        )
        self.audit.append(record)

    def _admit(self, who: str) -> int | None:
        """None when this caller's budget is spent (counted); else how many were suppressed before this one."""
        allowed = self.limiter.allow(who)
        with self._lock:
            if not allowed:
                self._suppressed[who] = self._suppressed.get(who, 0) + 1
                return None
            return self._suppressed.pop(who, 0)


def _who(user: str) -> str:
    try:
        return normalize_principal(user)
    except InvalidIdentity:
        return "(invalid identity)"
