"""The collaborators every operation module works with, wired once by the Engine."""

from __future__ import annotations

from dataclasses import dataclass

from engine.approvals import ApprovalStore, load_or_create_key
from engine.audit import AuditStore
from engine.catalog import StackCatalog
from engine.locking import StackLocks
from engine.operations.cancellation import Cancellation
from engine.operations.journal import Journal
from engine.operations.sessions import StackSessions
from engine.previews import PreviewStore
from engine.settings import Settings


@dataclass(frozen=True)
class Parts:
    settings: Settings
    catalog: StackCatalog
    audit: AuditStore
    journal: Journal
    cancellation: Cancellation
    sessions: StackSessions
    previews: PreviewStore
    approvals: ApprovalStore
    locks: StackLocks

    def lock_wait(self) -> float:
        return self.settings.lock_wait_seconds

    @classmethod
    def wire(cls, settings: Settings, catalog: StackCatalog, audit: AuditStore) -> Parts:
        """Build every collaborator from the settings: stores under the state dir, one journal, one canceller."""
        state = settings.state_dir
        key = settings.approval_key.get_secret_value().encode() if settings.approval_key else None
        journal = Journal(audit)
        cancellation = Cancellation(state / "cancel", journal)
        return cls(
            settings=settings,
            catalog=catalog,
            audit=audit,
            journal=journal,
            cancellation=cancellation,
            sessions=StackSessions(settings, catalog, cancellation),
            previews=PreviewStore(state / "previews"),
            approvals=ApprovalStore(state / "approvals", key or load_or_create_key(state / "approval.key")),
            locks=StackLocks(state / "locks"),
        )
