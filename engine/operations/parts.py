"""The collaborators every operation module works with, wired once by the Engine."""

from __future__ import annotations

from dataclasses import dataclass

from engine.approvals import ApprovalStore
from engine.audit import AuditStore
from engine.audit.trail import AuditTrail
from engine.catalog import StackCatalog
from engine.locking import StackLocks
from engine.operations.cancellation import Cancellation
from engine.operations.journal import Journal
from engine.operations.refusals import RefusalLog
from engine.operations.sessions import StackSessions
from engine.operations.trust_setup import Trust, audit_trail, trust_from
from engine.policy.pack import PolicyPack
from engine.previews import PreviewStore
from engine.settings import Settings


@dataclass(frozen=True)
class Parts:
    settings: Settings
    catalog: StackCatalog
    audit: AuditTrail
    journal: Journal
    cancellation: Cancellation
    sessions: StackSessions
    previews: PreviewStore
    approvals: ApprovalStore
    locks: StackLocks
    trust: Trust
    refusals: RefusalLog
    policy: PolicyPack

    def lock_wait(self) -> float:
        return self.settings.lock_wait_seconds

    def environment(self, stack: str) -> str:
        return self.catalog.entry(stack).environment

    @classmethod
    def wire(cls, settings: Settings, catalog: StackCatalog, audit: AuditStore) -> Parts:
        """Build every collaborator from the settings: stores under the state dir, one journal, one canceller."""
        state = settings.state_dir
        trust = trust_from(settings, state)
        trail = audit_trail(settings, audit, trust)
        journal = Journal(trail)
        cancellation = Cancellation(state / "cancel", journal)
        return cls(
            settings=settings,
            catalog=catalog,
            audit=trail,
            journal=journal,
            cancellation=cancellation,
            sessions=StackSessions(settings, catalog, cancellation),
            previews=PreviewStore(state / "previews"),
            approvals=ApprovalStore(state / "approvals"),
            locks=StackLocks(state / "locks"),
            trust=trust,
            refusals=RefusalLog(trail),
            policy=PolicyPack(settings),
        )
