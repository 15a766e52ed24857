"""Where the engine keeps what its processes coordinate through: files under the state dir (one host, the embedded
default) or the shared PostgreSQL store (DATAMCP_STORE_URL, many hosts). docs/deployment.md says what lives where."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.approvals import Approvals, ApprovalStore
from engine.locking import Locks, StackLocks
from engine.operations.cancellation import CancelRequests, FileCancelRequests
from engine.operations.liveness import HostRunning, Running
from engine.previews import Previews, PreviewStore
from engine.settings import Settings
from engine.task_records import FileTaskRecords, TaskRecords


@dataclass(frozen=True)
class Stores:
    previews: Previews
    approvals: Approvals
    cancel_requests: CancelRequests
    registry: Running
    locks: Callable[[Callable[[str], object]], Locks]  # given what to do with a taken-over lease's operation
    ping: Callable[[], object]  # raises when the store does not answer (readiness)
    tasks: TaskRecords


def open_stores(settings: Settings) -> Stores:
    if settings.store_url:
        return _shared(settings)
    state = settings.state_dir
    return Stores(
        previews=PreviewStore(state / "previews"),
        approvals=ApprovalStore(state / "approvals"),
        cancel_requests=FileCancelRequests(state / "cancel"),
        registry=HostRunning(),
        locks=lambda _: StackLocks(state / "locks"),
        ping=lambda: None,
        tasks=FileTaskRecords(state / "tasks"),
    )


def _shared(settings: Settings) -> Stores:
    from engine.pgstore.approvals import PgApprovalStore
    from engine.pgstore.cancel import PgCancelRequests
    from engine.pgstore.database import Database
    from engine.pgstore.leases import StackLeases
    from engine.pgstore.previews import PgPreviewStore
    from engine.pgstore.running import PgRunning
    from engine.pgstore.tasks import PgTaskRecords

    db = Database(settings.store_url)
    ttl = settings.lease_seconds
    return Stores(
        previews=PgPreviewStore(db, Path(settings.state_dir) / "plans"),
        approvals=PgApprovalStore(db),
        cancel_requests=PgCancelRequests(db),
        registry=PgRunning(db, ttl),
        locks=lambda on_takeover: StackLeases(db, ttl, on_takeover),
        ping=lambda: db.one("SELECT 1"),
        tasks=PgTaskRecords(db),
    )
