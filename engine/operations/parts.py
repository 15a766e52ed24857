"""The collaborators every operation module works with, wired once by the Engine."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from engine.approvals import Approvals
from engine.audit import AuditStore
from engine.audit.trail import AuditTrail
from engine.catalog import StackCatalog
from engine.locking import Locks
from engine.operations.cancellation import Cancellation, interrupt
from engine.operations.context import OperationContext
from engine.operations.journal import Journal
from engine.operations.refusals import RefusalLog
from engine.operations.sessions import StackSessions
from engine.operations.stores import open_stores
from engine.operations.trust_setup import Trust, audit_trail, trust_from
from engine.policy.pack import PolicyPack
from engine.previews import Previews
from engine.settings import Settings
from engine.task_records import TaskRecords


@dataclass(frozen=True)
class Parts:
    settings: Settings
    catalog: StackCatalog
    audit: AuditTrail
    journal: Journal
    cancellation: Cancellation
    sessions: StackSessions
    previews: Previews
    approvals: Approvals
    locks: Locks
    trust: Trust
    refusals: RefusalLog
    policy: PolicyPack
    ping_store: Callable[[], object]
    tasks: TaskRecords

    def lock_wait(self) -> float:
        return self.settings.lock_wait_seconds

    @contextmanager
    def locked(self, op: OperationContext) -> Iterator[None]:
        """Hold the stack's lock (a lease with many hosts) for `op`; a lease lost meanwhile interrupts its CLI and
        stops a CLI that has not started (the fence is checked right before it runs)."""
        assert op.stack is not None
        hold = self.locks.hold(
            op.stack, operation_id=op.id, user=op.user, wait_seconds=self.lock_wait(), on_lost=lambda: interrupt(op)
        )
        with hold as fence:
            op.fence = fence
            yield

    def environment(self, stack: str) -> str:
        return self.catalog.entry(stack).environment

    @classmethod
    def wire(cls, settings: Settings, catalog: StackCatalog, audit: AuditStore) -> Parts:
        """Build every collaborator from the settings: the stores (files, or the shared store), one journal, one
        canceller."""
        stores = open_stores(settings)
        trust = trust_from(settings, settings.state_dir)
        trail = audit_trail(settings, audit, trust)
        journal = Journal(trail, stores.registry)
        cancellation = Cancellation(stores.cancel_requests, journal)
        return cls(
            settings=settings,
            catalog=catalog,
            audit=trail,
            journal=journal,
            cancellation=cancellation,
            sessions=StackSessions(settings, catalog, cancellation),
            previews=stores.previews,
            approvals=stores.approvals,
            locks=stores.locks(journal.lease_expired),
            trust=trust,
            refusals=RefusalLog(trail),
            policy=PolicyPack(settings),
            ping_store=stores.ping,
            tasks=stores.tasks,
        )
