"""The running-operation registry in the shared store: each process keeps a row per operation it runs and a
heartbeat on them; an operation left `started` whose row is gone or silent for a lease time ran in a process (on
any host) that died, so any host may mark it interrupted."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from engine.audit import OperationRecord
from engine.errors import StoreUnavailable
from engine.pgstore.database import Database

HOST = socket.gethostname()
log = logging.getLogger(__name__)


class PgRunning:
    """Rows are kept by operation id: the heartbeat re-creates a row of this process's own operations that went
    missing and never vouches for another process's (a restarted container has the same host name and pid)."""

    def __init__(self, db: Database, ttl: float) -> None:
        self.db, self.ttl = db, ttl
        self._mine: dict[str, str | None] = {}
        self._beating: threading.Thread | None = None
        self._lock = threading.Lock()

    def register(self, operation_id: str, stack: str | None) -> None:
        """Before the `started` record is written, so a live operation is never taken for a dead one."""
        self._beat({operation_id: stack})
        with self._lock:
            self._mine[operation_id] = stack
            if self._beating is None:
                self._beating = threading.Thread(target=self._heartbeat, daemon=True)
                self._beating.start()

    def unregister(self, operation_id: str) -> None:
        """After the final record is written (a dead process's row simply goes silent)."""
        with self._lock:  # waits for a heartbeat in flight, which might re-create the row
            self._mine.pop(operation_id, None)
        try:
            self.db.execute("DELETE FROM running WHERE operation_id = %s", operation_id)
        except StoreUnavailable as exc:
            log.warning("could not clear operation %s from the running registry: %s", operation_id, exc)

    def dead(self, records: list[OperationRecord]) -> list[OperationRecord]:
        """Those of `records` no live process is running: no fresh heartbeat, and no unexpired stack lease (a row
        deleted from `running` does not make an apply that holds its lease look dead)."""
        if not records:
            return []
        ids = [r.id for r in records]
        rows = self.db.all(
            "SELECT operation_id FROM running WHERE operation_id = ANY(%s) "
            "AND heartbeat > now() - make_interval(secs => %s) "
            "UNION SELECT operation_id FROM leases WHERE operation_id = ANY(%s) AND expires_at > now()",
            ids,
            self.ttl,
            ids,
        )
        alive = {row[0] for row in rows}
        return [r for r in records if r.id not in alive]

    def _beat(self, operations: dict[str, str | None]) -> None:
        self.db.execute(
            "INSERT INTO running (operation_id, stack, host, pid, heartbeat) "
            "SELECT id, stack, %s, %s, now() FROM unnest(%s::text[], %s::text[]) AS mine(id, stack) "
            "ON CONFLICT (operation_id) DO UPDATE SET heartbeat = now(), host = excluded.host, pid = excluded.pid",
            HOST,
            os.getpid(),
            list(operations),
            list(operations.values()),
        )

    def _heartbeat(self) -> None:
        while True:
            time.sleep(self.ttl / 3)
            try:
                with self._lock:
                    if self._mine:
                        self._beat(self._mine)
            except StoreUnavailable as exc:
                log.warning("running-operation heartbeat failed: %s", exc)
