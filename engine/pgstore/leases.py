"""Stack leases: the lock of a stack across hosts. A lease has an expiry (renewed while its holder lives, so a
crashed holder's lease runs out) and a fencing token (a number that only grows): right before the CLI runs, the
holder checks that its token (with its operation id: a token number handed out twice does not make two holders)
still holds the lease, so a holder that was cut off and replaced never runs its CLI.
The database's clock decides expiry, so hosts' clocks need not agree; a holder counts its lease lost, by its own
clock, once SAFE_PART of the lease time passed since it sent its last successful renewal, so it stops before the
database can hand the lease on, even when the store hangs instead of failing."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from engine.errors import LeaseLost, StackBusy, StoreUnavailable
from engine.pgstore.database import Database

LEASE_LOCKS = 0x646D  # the advisory-lock class of lease changes (the second key is the stack's hash)
POLL_SECONDS = 0.2
SAFE_PART = 0.75  # of the lease time: one renewal may fail (renewals come every third) before the lease counts lost
HOST = socket.gethostname()
log = logging.getLogger(__name__)


class Lease:
    """A held lease; `check()` is the fence. It is lost (`lost` set, `on_lost` told once) when a renewal finds it
    gone or expired, or when `good_until` (this host's monotonic clock) passes without a successful renewal."""

    def __init__(
        self,
        db: Database,
        stack: str,
        token: int,
        operation_id: str,
        *,
        good_until: float,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.stack, self.token, self.operation_id = db, stack, token, operation_id
        self.good_until = good_until
        self.lost = threading.Event()
        self._on_lost = on_lost
        self._lock = threading.Lock()

    def check(self) -> None:
        """Refuse unless this token still holds an unexpired lease (called right before the CLI runs)."""
        held = (
            not self.lost.is_set()
            and time.monotonic() < self.good_until
            and self.db.one(
                "SELECT 1 FROM leases WHERE stack = %s AND token = %s AND operation_id = %s AND expires_at > now()",
                *self.key(),
            )
        )
        if not held:
            raise LeaseLost(
                f"the lease on stack {self.stack!r} (token {self.token}) expired or passed to another holder: "
                "this operation does not run",
                stack=self.stack,
                token=self.token,
            )

    def key(self) -> tuple[str, int, str]:
        """What names this holder's row: stack, token and operation id."""
        return self.stack, self.token, self.operation_id

    def lose(self) -> None:
        with self._lock:
            if self.lost.is_set():
                return
            self.lost.set()
        if self._on_lost is not None:
            self._on_lost()


class StackLeases:
    """Per-stack leases in the shared store. `on_takeover(operation_id)` is told of the holder whose expired lease
    was taken over (its operation did not finish)."""

    def __init__(self, db: Database, ttl: float, on_takeover: Callable[[str], object] | None = None) -> None:
        self.db, self.ttl, self.on_takeover = db, ttl, on_takeover

    def holder(self, stack: str) -> dict[str, Any] | None:
        row = self.db.one(
            'SELECT operation_id, "user", host, pid, since, token FROM leases WHERE stack = %s AND expires_at > now()',
            stack,
        )
        return _holder(row) if row else None

    @contextmanager
    def hold(
        self,
        stack: str,
        *,
        operation_id: str,
        user: str,
        wait_seconds: float = 0,
        on_lost: Callable[[], None] | None = None,
    ) -> Iterator[Lease]:
        """Hold the stack's lease for the block, renewed in the background; StackBusy if another holder keeps it
        longer than `wait_seconds`."""
        lease = self._acquire(stack, operation_id, user, time.monotonic() + wait_seconds, on_lost)
        stop = threading.Event()
        keepers = [threading.Thread(target=f, args=(lease, stop), daemon=True) for f in (self._renew, self._watch)]
        for keeper in keepers:
            keeper.start()
        try:
            yield lease
        finally:
            stop.set()
            for keeper in keepers:
                keeper.join()
            self._release(lease)

    def _release(self, lease: Lease) -> None:
        try:
            self.db.execute("DELETE FROM leases WHERE stack = %s AND token = %s AND operation_id = %s", *lease.key())
        except StoreUnavailable as exc:  # the lease then runs out by itself
            log.warning("could not release the lease on %s (it expires in %g s): %s", lease.stack, self.ttl, exc)

    def _acquire(
        self, stack: str, operation_id: str, user: str, deadline: float, on_lost: Callable[[], None] | None
    ) -> Lease:
        while True:
            sent = time.monotonic()
            token, previous = self.db.write(lambda cur: self._take(cur, stack, operation_id, user))
            if token is not None:
                if previous and self.on_takeover is not None:
                    self.on_takeover(previous)
                return Lease(self.db, stack, token, operation_id, good_until=self._good_until(sent), on_lost=on_lost)
            if time.monotonic() >= deadline:
                holder = self.holder(stack) or {}
                raise StackBusy(
                    f"stack {stack!r} is busy: operation {holder.get('operation_id', '?')} by "
                    f"{holder.get('user', '?')} on {holder.get('host', '?')} since {holder.get('since', '?')}",
                    stack=stack,
                    holder=holder,
                )
            time.sleep(POLL_SECONDS)

    def _take(
        self, cur: psycopg.Cursor[Any], stack: str, operation_id: str, user: str
    ) -> tuple[int | None, str | None]:
        """In one transaction: the new token, and the operation whose expired lease was taken over (if any)."""
        cur.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (LEASE_LOCKS, stack))
        row = cur.execute("SELECT operation_id, expires_at > now() FROM leases WHERE stack = %s", (stack,)).fetchone()
        if row and row[1]:
            return None, None
        taken = cur.execute(
            'INSERT INTO leases (stack, token, operation_id, "user", host, pid, since, expires_at) '
            "VALUES (%s, nextval('lease_tokens'), %s, %s, %s, %s, now(), now() + make_interval(secs => %s)) "
            "ON CONFLICT (stack) DO UPDATE SET token = excluded.token, operation_id = excluded.operation_id, "
            '"user" = excluded."user", host = excluded.host, pid = excluded.pid, since = excluded.since, '
            "expires_at = excluded.expires_at RETURNING token",
            (stack, operation_id, user, HOST, os.getpid(), self.ttl),
        ).fetchone()
        assert taken is not None
        return int(taken[0]), (str(row[0]) if row else None)

    def _good_until(self, sent: float) -> float:
        """The database expires a lease `ttl` after it took the request sent at `sent`: stop well before that."""
        return sent + self.ttl * SAFE_PART

    def _renew(self, lease: Lease, stop: threading.Event) -> None:
        """Renew every third of the lease time; a lease found gone or already expired is lost (never revived: another
        holder may have it). An unreachable store is left to the watchdog."""
        while not stop.wait(self.ttl / 3) and not lease.lost.is_set():
            sent = time.monotonic()
            try:
                held = self.db.execute(
                    "UPDATE leases SET expires_at = now() + make_interval(secs => %s) "
                    "WHERE stack = %s AND token = %s AND operation_id = %s AND expires_at > now()",
                    self.ttl,
                    *lease.key(),
                )
            except StoreUnavailable as exc:
                log.warning("could not renew the lease on %s: %s", lease.stack, exc)
                continue
            if not held:
                lease.lose()
                return
            lease.good_until = self._good_until(sent)

    @staticmethod
    def _watch(lease: Lease, stop: threading.Event) -> None:
        """Lose the lease once `good_until` passes, even while a renewal hangs on the store."""
        while not stop.wait(max(0.0, lease.good_until - time.monotonic())):
            if time.monotonic() >= lease.good_until:
                lease.lose()
                return


def _holder(row: tuple[Any, ...]) -> dict[str, Any]:
    operation_id, user, host, pid, since, token = row
    stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"operation_id": operation_id, "user": user, "host": host, "pid": pid, "since": stamp, "token": token}
