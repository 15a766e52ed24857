"""Per-stack engine locks: operations on one stack are serialised across processes on this host; different stacks
run in parallel. Many hosts share leases in the store instead (engine/pgstore/leases.py); the backend's own lock
holds in both cases (its ConcurrentUpdateError becomes StackBusy)."""

from __future__ import annotations

import json
import os
import re
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from filelock import FileLock, Timeout

from engine.errors import StackBusy


class Fence(Protocol):
    """Checked right before the CLI runs: raises LeaseLost when the lock is no longer this operation's."""

    def check(self) -> None: ...


class HeldLock:
    """A file lock cannot be lost while its process lives: nothing to check."""

    def check(self) -> None:
        return None


HELD = HeldLock()


class Locks(Protocol):
    def holder(self, stack: str) -> dict[str, Any] | None: ...

    def hold(
        self,
        stack: str,
        *,
        operation_id: str,
        user: str,
        wait_seconds: float = 0,
        on_lost: Callable[[], None] | None = None,
    ) -> AbstractContextManager[Fence]: ...


class StackLocks:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _holder_path(self, stack: str) -> Path:
        return self.root / f"{stack}.holder.json"

    def holder(self, stack: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._holder_path(stack).read_text())  # type: ignore[no-any-return]
        except (FileNotFoundError, ValueError):
            return None

    @contextmanager
    def hold(
        self,
        stack: str,
        *,
        operation_id: str,
        user: str,
        wait_seconds: float = 0,
        on_lost: Callable[[], None] | None = None,
    ) -> Iterator[Fence]:
        """Hold the stack's lock for the block. `wait_seconds=0` fails fast with StackBusy; more waits that long."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.root / f"{stack}.lock"))
        try:
            lock.acquire(timeout=wait_seconds if wait_seconds > 0 else 0.05)
        except Timeout:
            holder = self.holder(stack) or {}
            raise StackBusy(
                f"stack {stack!r} is busy: {holder.get('tool', 'an operation')} {holder.get('operation_id', '?')} "
                f"by {holder.get('user', '?')} since {holder.get('since', '?')}",
                stack=stack,
                holder=holder,
            ) from None
        try:
            self._holder_path(stack).write_text(
                json.dumps(
                    {
                        "operation_id": operation_id,
                        "user": user,
                        "pid": os.getpid(),
                        "host": socket.gethostname(),
                        "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    }
                )
            )
            yield HELD
        finally:
            self._holder_path(stack).unlink(missing_ok=True)
            lock.release()


_BACKEND_LOCK = re.compile(r"created by (?P<who>\S+) \(pid (?P<pid>\d+)\) at (?P<since>\S+)")


def backend_lock_holder(message: str) -> dict[str, str]:
    """Who holds the backend's lock, from pulumi's ConcurrentUpdateError message."""
    match = _BACKEND_LOCK.search(message)
    return match.groupdict() if match else {}


def holder_alive(pid: int, since: str) -> bool:
    """Whether the process that took a lock at `since` (ISO 8601) still runs: `pid` is alive and, where the system
    says when a process started (Linux /proc), started no later than the lock was taken; a later process only
    reuses the dead holder's number."""
    if not pid_alive(pid):
        return False
    started, taken = _process_start(pid), _parse_time(since)
    return started is None or taken is None or started <= taken + START_SLACK_SECONDS


START_SLACK_SECONDS = 2.0  # /proc gives the boot time in whole seconds and start times in clock ticks


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the command name (state, ppid, ...); OSError or IndexError where the
    system does not say."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _process_start(pid: int) -> float | None:
    try:
        ticks = int(_stat(pid)[19])
        boot = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
    except (OSError, IndexError, ValueError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _parse_time(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def pid_alive(pid: int) -> bool:
    """Whether `pid` is a running process; a zombie (dead, not yet reaped: a killed CLI whose parent died too, until
    init reaps it) holds nothing."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _state(pid) not in ("Z", "X")


def _state(pid: int) -> str | None:
    """The process state letter from /proc (R, S, D, Z, ...); None where the system does not say."""
    try:
        return _stat(pid)[0]
    except (OSError, IndexError):
        return None
