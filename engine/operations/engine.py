"""The Engine: one facade over the operations and the read views; the lifecycle of an operation is in docs/engine.md
and who does what in docs/architecture.md."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.approvals import Approval
from engine.audit import AuditStore, OperationRecord, Page, open_store
from engine.audit.checkpoints import Checkpoint
from engine.catalog import RegistryCatalog, StackCatalog
from engine.errors import ApprovalInvalid, DataMcpError
from engine.operations import apply as applying
from engine.operations import approval_flow, preview, refresh, rejection
from engine.operations.events import ProgressCallback
from engine.operations.parts import Parts
from engine.queries import Queries
from engine.results import ApplyResult, PreviewResult, PreviewReview, RefreshResult, StackDescription, StackInfo
from engine.settings import Settings
from engine.trust.proofs import SshSigner
from engine.vocabulary import Kind

log = logging.getLogger(__name__)


class Engine:
    """One engine per process; safe to share between threads. Operations on one stack are serialised."""

    def __init__(
        self, settings: Settings, *, audit: AuditStore | None = None, catalog: StackCatalog | None = None
    ) -> None:
        self.settings = settings
        store = audit if audit is not None else open_store(settings.audit_url)
        self.parts = Parts.wire(settings, catalog or RegistryCatalog(), store)
        self.catalog, self.audit = self.parts.catalog, self.parts.audit
        self.previews, self.approvals, self.locks = self.parts.previews, self.parts.approvals, self.parts.locks
        self.tasks = self.parts.tasks  # background calls' records (MCP tasks)
        self.queries = Queries(self.catalog, self.parts.sessions, self.audit)
        self.mark_interrupted()

    def mark_interrupted(self) -> list[str]:
        return self.parts.journal.mark_interrupted()  # operations of dead processes of this host: `interrupted`

    def readiness(self) -> dict[str, str]:
        """Whether this process can take work: the shared store and the audit store answer ({} when both do; else
        which one does not, the reason is logged)."""
        problems = {}
        for name, ping in (("store", self.parts.ping_store), ("audit", self.audit.store.head)):
            try:
                ping()
            except DataMcpError as exc:
                log.warning("not ready: the %s does not answer: %s", name, exc.message)
                problems[name] = "unavailable"
        return problems

    def list_stacks(self) -> list[StackInfo]:
        return self.queries.list_stacks()

    def outputs(self, stack: str) -> dict[str, Any]:
        return self.queries.outputs(stack)

    def describe(self, stack: str) -> StackDescription:
        return self.queries.describe(stack)

    def history(self, stack: str, limit: int = 20, cursor: str | None = None) -> Page:
        return self.queries.history(stack, limit, cursor)

    def get_operation(self, operation_id: str) -> OperationRecord:
        return self.queries.get_operation(operation_id)

    def list_operations(self, **filters: Any) -> Page:
        return self.queries.list_operations(**filters)

    def preview(
        self,
        stack: str,
        *,
        user: str,
        targets: list[str] | None = None,
        refresh: bool = False,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
        kind: str = "update",
    ) -> PreviewResult:
        """Preview the changes to `stack` and save them (with the update plan and digests) under a preview_id."""
        return preview.preview(
            self.parts,
            stack,
            user=user,
            targets=targets,
            refresh=refresh,
            on_progress=on_progress,
            operation_id=operation_id,
            kind=Kind.parse(kind),
        )

    def approve(self, preview_id: str, *, approver: str) -> Approval:
        """Dev mode only: an approval signed with the checkout's key for a declared approver (no trust boundary)."""
        signer = self.parts.trust.dev_signer
        if signer is None:
            raise ApprovalInvalid(f"approvals must be signed here: `datamcp approve {preview_id} --key KEY`")
        return approval_flow.approve(self.parts, preview_id, approver=approver, signer=signer)

    def approve_with_key(self, preview_id: str, key: Path, *, interactive: bool = False) -> Approval:
        """An approval signed with the approver's own SSH key; the trust list says whose key it is."""
        signer = SshSigner(key, interactive=interactive)
        approver = approval_flow.ssh_approver(self.parts, signer)
        return approval_flow.approve(self.parts, preview_id, approver=approver, signer=signer)

    def approve_as_server(self, preview_id: str, *, approver: str, evidence: dict[str, str]) -> Approval:
        """An approval for a person the server authenticated itself (console login, CI reviewer), with the proof. A
        login that proves nobody (the console's dev login) never vouches in signed mode."""
        if self.settings.approval_mode == "signed" and evidence.get("via") == "console-dev":
            raise ApprovalInvalid("a dev login proves nobody: signed mode takes approvals from real logins only")
        signer = self.parts.trust.server_signer()
        stack = self.previews.get(preview_id).stack
        person = self.parts.trust.prover.known_approver(approver, stack, self.parts.environment(stack))
        return approval_flow.approve(self.parts, preview_id, approver=person, signer=signer, evidence=evidence)

    def up(
        self,
        stack: str,
        *,
        user: str,
        preview_id: str | None = None,
        approval_id: str | Sequence[str] | None = None,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> ApplyResult:
        """Dry run by default: without a preview_id and an approval it only previews. With them it applies exactly
        the approved preview, or refuses if anything changed since."""
        return applying.apply_or_dry_run(
            self.parts, Kind.UPDATE, stack, user, preview_id, Kind.ids(approval_id), None, on_progress, operation_id
        )

    def destroy(
        self,
        stack: str,
        *,
        user: str,
        preview_id: str | None = None,
        approval_id: str | Sequence[str] | None = None,
        targets: list[str] | None = None,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> ApplyResult:
        """Like up: a destroy preview first; only its own approval destroys. Protected resources stay unless
        explicitly targeted."""
        return applying.apply_or_dry_run(
            self.parts, Kind.DESTROY, stack, user, preview_id, Kind.ids(approval_id), targets, on_progress, operation_id
        )

    def refresh(
        self,
        stack: str,
        *,
        user: str,
        preview_only: bool = True,
        clear_pending_creates: bool = False,
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> RefreshResult:
        """Drift detection: which resources differ from the state. With preview_only=False the state is updated to
        what exists (the cloud is never changed by a refresh)."""
        return refresh.refresh(
            self.parts,
            stack,
            user=user,
            preview_only=preview_only,
            clear_pending_creates=clear_pending_creates,
            on_progress=on_progress,
            operation_id=operation_id,
        )

    def review(self, preview_id: str) -> PreviewReview:
        """What an approval of this preview binds: changes with old -> new values, the binding, approvals so far."""
        return approval_flow.review(self.parts, preview_id)

    def apply_preview(
        self,
        preview_id: str,
        *,
        user: str,
        kind: str = "update",
        on_progress: ProgressCallback | None = None,
        operation_id: str | None = None,
    ) -> ApplyResult:
        """Apply a preview with the approval another principal gave it (agents never hold approval ids)."""
        k = Kind.parse(kind)
        stack, ids = approval_flow.approvals_for(self.parts, preview_id, user=user, kind=k, operation_id=operation_id)
        return applying.apply_or_dry_run(self.parts, k, stack, user, preview_id, ids, None, on_progress, operation_id)

    def approval_wait(self, preview_id: str) -> str | None:
        """Why applying this preview still waits for people (None: its approvals suffice). A rejected or expired
        preview raises: waiting would not help."""
        return approval_flow.waiting_reason(self.parts, preview_id)

    def request_apply(self, preview_id: str, *, user: str, reason: str) -> dict[str, Any]:
        return approval_flow.request_apply(self.parts, preview_id, user=user, reason=reason)

    def reject(self, preview_id: str, *, user: str, reason: str) -> dict[str, Any]:
        """A person says no, on record, with a reason the requester reads (`rejection`); no approval counts after."""
        return rejection.reject(self.parts, preview_id, user=user, reason=reason)

    def rejection(self, preview_id: str) -> dict[str, Any] | None:
        return rejection.rejection(self.parts, self.previews.get(preview_id))

    def request_cancel(self, operation_id: str) -> None:
        """Stop an operation the caller started itself (e.g. a client that cancelled its request), even if its audit
        record is not written yet: the request is picked up when the operation starts its CLI."""
        self.parts.cancellation.request(operation_id)

    def cancel(self, operation_id: str, *, user: str, admin: bool = False) -> OperationRecord:
        """Ask a running operation to stop gracefully (in this process or another one on this host)."""
        return self.parts.cancellation.cancel(operation_id, user=user, admin=admin)

    def cancel_with_key(self, operation_id: str, key: Path) -> OperationRecord:
        """Cancel anyone's operation as an admin proven by an SSH signature (the trust list's admin role)."""
        admin = self.prove_admin(key, f"cancel {operation_id}")
        return self.parts.cancellation.cancel(operation_id, user=admin, admin=True)

    def prove_admin(self, key: Path, action: str) -> str:
        return self.parts.trust.prove_admin(key, action)

    def reinit_audit(self, reason: str, *, admin: str) -> Checkpoint:
        """Restart the audit chain after the store was lost, on record (docs/security.md)."""
        return self.audit.reinit(reason, admin)
