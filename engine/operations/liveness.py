"""Which operations left `started` belong to processes that are gone. One host (files): a process of this host
whose pid is dead. Many hosts (the shared store): engine/pgstore/running.py's heartbeat registry."""

from __future__ import annotations

import os
from typing import Protocol

from engine.audit import OperationRecord
from engine.locking import pid_alive
from engine.operations.context import HOST


class Running(Protocol):
    def register(self, operation_id: str, stack: str | None) -> None: ...

    def unregister(self, operation_id: str) -> None: ...

    def dead(self, records: list[OperationRecord]) -> list[OperationRecord]: ...


class HostRunning:
    """One host: the audit record names the process; only this host can tell whether it lives."""

    def register(self, operation_id: str, stack: str | None) -> None:
        return None

    def unregister(self, operation_id: str) -> None:
        return None

    def dead(self, records: list[OperationRecord]) -> list[OperationRecord]:
        return [r for r in records if r.host == HOST and r.pid != os.getpid() and not pid_alive(r.pid)]
