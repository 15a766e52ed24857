"""Apply requirements as one pure check: a table of rules over the facts gathered for an apply.

Each rule returns the refusal it stands for, or None. `check` returns the first refusal in table order, so the
cheapest and most specific reasons come first; rules about the stack's state wait until the state is known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.approvals import Approval
from engine.errors import ApprovalInvalid, DataMcpError, PendingOperations, StalePreview
from engine.previews import Digests, PreviewRecord
from engine.vocabulary import Kind


@dataclass(frozen=True)
class StateFacts:
    """What the stack looks like now, read under the stack's lock just before the apply."""

    digests: Digests
    pending: tuple[str, ...] = ()
    plan_sha256: str | None = None  # the saved plan file's digest as found on disk (None: missing)


@dataclass(frozen=True)
class ApplyFacts:
    stack: str
    kind: Kind
    preview: PreviewRecord
    approval: Approval
    signature_ok: bool
    approval_used: bool
    now: float
    preview_ttl_seconds: int
    state: StateFacts | None = None


Rule = Callable[[ApplyFacts], DataMcpError | None]


def _invalid(f: ApplyFacts, message: str) -> ApprovalInvalid:
    return ApprovalInvalid(message, approval_id=f.approval.approval_id)


def preview_matches_request(f: ApplyFacts) -> DataMcpError | None:
    p = f.preview
    if p.stack != f.stack or p.kind != f.kind:
        return ApprovalInvalid(
            f"preview {p.preview_id} is a {p.kind} preview of {p.stack}, not a {f.kind} of {f.stack}",
            preview_id=p.preview_id,
        )
    return None


def signature_genuine(f: ApplyFacts) -> DataMcpError | None:
    return None if f.signature_ok else _invalid(f, "the approval's signature does not match: it was altered or forged")


def approval_names_this_preview(f: ApplyFacts) -> DataMcpError | None:
    a, p = f.approval, f.preview
    if a.preview_id != p.preview_id or a.binding != p.binding():
        return _invalid(f, "the approval is for another preview")
    return None


def approval_for_this_kind_and_stack(f: ApplyFacts) -> DataMcpError | None:
    a = f.approval
    if a.kind != f.kind or a.stack != f.preview.stack:
        return _invalid(f, f"the approval is for a {a.kind} of {a.stack}, not a {f.kind}")
    return None


def approver_is_not_requester(f: ApplyFacts) -> DataMcpError | None:
    return _invalid(f, "self-approval is not allowed") if f.approval.approver == f.preview.user else None


def approval_not_expired(f: ApplyFacts) -> DataMcpError | None:
    if f.now > f.approval.expires_epoch:
        return _invalid(f, "the approval has expired; approve the preview again")
    return None


def approval_unused(f: ApplyFacts) -> DataMcpError | None:
    return _invalid(f, "the approval was already used") if f.approval_used else None


def preview_fresh(f: ApplyFacts) -> DataMcpError | None:
    return preview_age_refusal(f.preview, f.now, f.preview_ttl_seconds)


def no_pending_operations(f: ApplyFacts) -> DataMcpError | None:
    if f.state is None or not f.state.pending:
        return None
    pending = list(f.state.pending)
    return PendingOperations(
        f"stack {f.stack!r} has {len(pending)} operation(s) left pending by an interrupted run: "
        f"{', '.join(pending)}. Run `datamcp refresh {f.stack} --apply --clear-pending-creates` "
        "after checking those resources in the cloud.",
        stack=f.stack,
        pending=pending,
    )


def nothing_changed_since_preview(f: ApplyFacts) -> DataMcpError | None:
    if f.state is None:
        return None
    changed = f.preview.digests.changed(f.state.digests)
    if not changed:
        return None
    return StalePreview(
        f"the {' and '.join(changed)} changed since preview {f.preview.preview_id}; preview again",
        preview_id=f.preview.preview_id,
        changed=changed,
    )


def saved_plan_intact(f: ApplyFacts) -> DataMcpError | None:
    if f.state is None or f.preview.plan_file is None:
        return None
    if f.state.plan_sha256 is None or f.state.plan_sha256 != f.preview.plan_sha256:
        pid = f.preview.preview_id
        return StalePreview(f"the saved plan of preview {pid} is missing or altered", preview_id=pid)
    return None


APPROVAL_RULES: tuple[Rule, ...] = (
    signature_genuine,
    approval_names_this_preview,
    approval_for_this_kind_and_stack,
    approver_is_not_requester,
    approval_not_expired,
    approval_unused,
)
RULES: tuple[Rule, ...] = (
    preview_matches_request,
    *APPROVAL_RULES,
    preview_fresh,
    no_pending_operations,
    nothing_changed_since_preview,
    saved_plan_intact,
)


def check(facts: ApplyFacts, rules: tuple[Rule, ...] = RULES) -> DataMcpError | None:
    """The first refusal among `rules`, or None when the apply may go ahead."""
    for rule in rules:
        refusal = rule(facts)
        if refusal is not None:
            return refusal
    return None


def preview_age_refusal(preview: PreviewRecord, now: float, ttl_seconds: int) -> StalePreview | None:
    age = now - preview.created_epoch
    if age <= ttl_seconds:
        return None
    return StalePreview(
        f"preview {preview.preview_id} is {int(age)} s old (limit {ttl_seconds} s); preview again",
        preview_id=preview.preview_id,
    )
