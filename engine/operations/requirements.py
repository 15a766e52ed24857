"""Apply requirements as one pure check: a table of rules over the facts gathered for an apply.

Each rule returns the refusal it stands for, or None. `check` returns the first refusal in table order, so the
cheapest and most specific reasons come first; rules about the stack's state wait until the state is known. Every
approval is checked by the approval rules on its own; the preview rules then count distinct proven approvers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from engine.approvals import Approval
from engine.audit import OperationRecord
from engine.errors import (
    ApprovalInvalid,
    ApprovalRequired,
    DataMcpError,
    PendingOperations,
    PolicyDenied,
    StalePreview,
)
from engine.identity import same_principal
from engine.previews import Digests, PreviewRecord
from engine.trust.proofs import Proof
from engine.vocabulary import Kind


@dataclass(frozen=True)
class StateFacts:
    """What the stack looks like now, read under the stack's lock just before the apply."""

    digests: Digests
    pending: tuple[str, ...] = ()
    plan_sha256: str | None = None  # the saved plan file's digest as found on disk (None: missing)


def _take_binding(facts: ApprovalFacts | ApplyFacts) -> None:
    """The preview's binding (a digest of the whole record), taken from `preview` once unless the caller gave it."""
    if not facts.preview_binding:
        object.__setattr__(facts, "preview_binding", facts.preview.binding())


@dataclass(frozen=True)
class ApprovalFacts:
    preview: PreviewRecord
    approval: Approval
    proof: Proof
    used: bool
    now: float
    requester: str = ""  # the preview's requester as a person (trust-list principal); "" means its name as given
    roles: frozenset[str] = frozenset()  # what the trust list gives the proven approver (policy role rules)
    preview_binding: str = ""  # the preview's binding, given by a caller that took it already (see _take_binding)

    def __post_init__(self) -> None:
        _take_binding(self)


@dataclass(frozen=True)
class ApplyFacts:
    stack: str
    kind: Kind
    preview: PreviewRecord
    approvals: tuple[ApprovalFacts, ...]
    required: int
    now: float
    recorded_binding: str | None  # what the audit trail says the preview operation produced
    sealed: bool  # the preview carries the engine's seal of its binding (engine/operations/provenance.py)
    used_on_record: Mapping[str, str]  # approval id -> the earlier apply the audit trail shows using it
    state: StateFacts | None = None
    changed_on_record: OperationRecord | None = None  # the first operation the trail shows writing the stack since
    preview_binding: str = ""  # the preview's binding, given by a caller that took it already (see _take_binding)

    def __post_init__(self) -> None:
        _take_binding(self)


Refusal = DataMcpError | None
F = TypeVar("F")
ApprovalRule = Callable[[ApprovalFacts], Refusal]
Rule = Callable[[ApplyFacts], Refusal]


def a_kind(kind: Kind) -> str:
    return "an update" if kind == Kind.UPDATE else "a destroy"


def _invalid(f: ApprovalFacts, message: str) -> ApprovalInvalid:
    return ApprovalInvalid(message, approval_id=f.approval.approval_id)


def signature_proves_someone(f: ApprovalFacts) -> Refusal:
    return None if f.proof.principal is not None else _invalid(f, f.proof.problem or "the signature proves nobody")


def proven_signer_is_the_named_approver(f: ApprovalFacts) -> Refusal:
    if f.proof.principal is not None and not same_principal(f.proof.principal, f.approval.approver):
        return _invalid(f, f"the approval names {f.approval.approver!r} but was signed by {f.proof.principal!r}")
    return None


def approval_names_this_preview(f: ApprovalFacts) -> Refusal:
    a, p = f.approval, f.preview
    if a.preview_id != p.preview_id or a.binding != f.preview_binding:
        return _invalid(f, "the approval is for another preview")
    return None


def approval_for_this_kind_and_stack(f: ApprovalFacts) -> Refusal:
    a = f.approval
    if a.kind != f.preview.kind or a.stack != f.preview.stack:
        return _invalid(f, f"the approval is for {a_kind(a.kind)} of {a.stack}, not {a_kind(f.preview.kind)}")
    return None


def approver_is_not_requester(f: ApprovalFacts) -> Refusal:
    people = {f.approval.approver, f.proof.principal or f.approval.approver}
    if any(same_principal(who, f.requester or f.preview.user) or same_principal(who, f.preview.user) for who in people):
        return _invalid(f, "self-approval is not allowed")
    return None


def approval_not_expired(f: ApprovalFacts) -> Refusal:
    return (
        _invalid(f, "the approval has expired; approve the preview again") if f.now > f.approval.expires_epoch else None
    )


def approval_unused(f: ApprovalFacts) -> Refusal:
    return _invalid(f, "the approval was already used") if f.used else None


APPROVAL_RULES: tuple[ApprovalRule, ...] = (
    signature_proves_someone,
    proven_signer_is_the_named_approver,
    approval_names_this_preview,
    approval_for_this_kind_and_stack,
    approver_is_not_requester,
    approval_not_expired,
    approval_unused,
)


def check_approval(facts: ApprovalFacts) -> Refusal:
    """The first refusal among the approval rules, or None when this approval counts."""
    return first_refusal(APPROVAL_RULES, facts)


def preview_matches_request(f: ApplyFacts) -> Refusal:
    p = f.preview
    if p.stack != f.stack or p.kind != f.kind:
        return ApprovalInvalid(
            f"preview {p.preview_id} is {a_kind(p.kind)} preview of {p.stack}, not {a_kind(f.kind)} of {f.stack}",
            preview_id=p.preview_id,
        )
    return None


def preview_is_the_recorded_one(f: ApplyFacts) -> Refusal:
    return None if f.recorded_binding == f.preview_binding else _not_recorded(f.preview)


def preview_is_sealed(f: ApplyFacts) -> Refusal:
    """A record anyone with the store's credentials could append does not vouch alone: the engine's seal must."""
    return None if f.sealed else _not_recorded(f.preview)


def _not_recorded(preview: PreviewRecord) -> StalePreview:
    pid = preview.preview_id
    return StalePreview(
        f"preview {pid} does not match what the audit trail recorded for it (edited after the preview?); preview again",
        preview_id=pid,
    )


def preview_not_expired(f: ApplyFacts) -> Refusal:
    return preview_age_refusal(f.preview, f.now)


def update_has_a_saved_plan(f: ApplyFacts) -> Refusal:
    if f.kind is Kind.UPDATE and (f.preview.plan_file is None or f.preview.plan_sha256 is None):
        pid = f.preview.preview_id
        return StalePreview(f"preview {pid} has no saved plan, so it cannot be applied; preview again", preview_id=pid)
    return None


def every_approval_counts(f: ApplyFacts) -> Refusal:
    for approval in f.approvals:
        refusal = check_approval(approval)
        if refusal is not None:
            return refusal
    return None


def preview_was_judged(f: ApplyFacts) -> Refusal:
    if f.preview.policy is not None:
        return None
    pid = f.preview.preview_id
    return StalePreview(f"preview {pid} was not checked by the policy pack; preview again", preview_id=pid)


def policy_allows(f: ApplyFacts) -> Refusal:
    return policy_refusal(f.preview)


def policy_refusal(preview: PreviewRecord) -> PolicyDenied | None:
    """The policy pack's deny of this preview, if it denied it: nobody can approve or apply it."""
    denied = preview.policy.denied if preview.policy is not None else []
    if not denied:
        return None
    listed = "; ".join(f"{r.id}: {r.message}" for r in denied[:5])
    return PolicyDenied(
        f"the policy pack denies preview {preview.preview_id} ({len(denied)} finding(s): {listed}); fix the program "
        "or config and preview again",
        preview_id=preview.preview_id,
        rules=sorted({r.id for r in denied}),
    )


def needed(base: int, preview: PreviewRecord) -> int:
    """How many different people must approve: the N-person rule, raised by the policy's `require` results."""
    return max(base, preview.policy.min_approvals() if preview.policy is not None else 0)


def no_approval_used_on_record(f: ApplyFacts) -> Refusal:
    """The audit trail is the second witness of single use: an approval an earlier apply used stays used even when
    the approvals store forgot it (a deleted `approvals_used` row)."""
    for approval in f.approvals:
        used_by = f.used_on_record.get(approval.approval.approval_id)
        if used_by is not None:
            return _invalid(approval, f"the approval was already used (by operation {used_by})")
    return None


def enough_distinct_approvers(f: ApplyFacts) -> Refusal:
    people = distinct_approvers(f.approvals)
    required = needed(f.required, f.preview)
    if len(people) >= required:
        return None
    return ApprovalRequired(
        f"stack {f.stack!r} needs approvals by {required} different people; preview {f.preview.preview_id} has "
        f"{len(people)}{' (' + ', '.join(people) + ')' if people else ''}",
        preview_id=f.preview.preview_id,
        required=required,
        approvers=people,
    )


def policy_roles_met(f: ApplyFacts) -> Refusal:
    """Each role the policy requires is held by enough of the distinct proven approvers."""
    return role_shortfall(f.preview, f.approvals)


def role_shortfall(preview: PreviewRecord, approvals: Sequence[ApprovalFacts]) -> ApprovalRequired | None:
    if preview.policy is None:
        return None
    for need in preview.policy.requirements():
        holders = [p for p in distinct_approvers(approvals) if holds(approvals, p, need.role)]
        if len(holders) < need.approvals:
            return ApprovalRequired(
                f"policy {', '.join(need.rules)} requires {need.approvals} approval(s) by people with the "
                f"{need.role} role; preview {preview.preview_id} has {len(holders)}"
                f"{' (' + ', '.join(holders) + ')' if holders else ''}",
                preview_id=preview.preview_id,
                role=need.role,
                required=need.approvals,
                approvers=holders,
            )
    return None


def holds(approvals: Sequence[ApprovalFacts], principal: str, role: str) -> bool:
    """Whether `principal` holds `role` ("approver": any valid approval proves it)."""
    if role == "approver":
        return True
    return any(f.proof.principal == principal and role in f.roles for f in approvals)


def no_pending_operations(f: ApplyFacts) -> Refusal:
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


def nothing_changed_since_preview(f: ApplyFacts) -> Refusal:
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


def not_written_since_preview_on_record(f: ApplyFacts) -> Refusal:
    """Like a saved plan in Terraform, a preview is of one state: once an apply or a refresh has written the stack,
    it is stale even if the state digest matches again (a checkpoint put back as it was, to replay an old approved
    preview). Judged once the state is known, so that a changed digest keeps its own, more telling message."""
    if f.state is None or f.changed_on_record is None:
        return None
    return written_refusal(f.preview, f.changed_on_record)


def written_refusal(preview: PreviewRecord, record: OperationRecord) -> StalePreview:
    """The refusal of a preview whose stack `record` wrote after it was made (apply, approval, request)."""
    return StalePreview(
        f"the stack was written by {record.tool} {record.id} ({record.status}) after preview "
        f"{preview.preview_id} was made (the audit trail shows it; a state restored as it was does not undo it); "
        "preview again",
        preview_id=preview.preview_id,
        changed=["state"],
        written_by=record.id,
    )


def saved_plan_intact(f: ApplyFacts) -> Refusal:
    if f.state is None or f.preview.plan_file is None:
        return None
    if f.state.plan_sha256 is None or f.state.plan_sha256 != f.preview.plan_sha256:
        pid = f.preview.preview_id
        return StalePreview(f"the saved plan of preview {pid} is missing or altered", preview_id=pid)
    return None


RULES: tuple[Rule, ...] = (
    preview_matches_request,
    preview_is_the_recorded_one,
    preview_is_sealed,
    preview_was_judged,
    policy_allows,
    every_approval_counts,
    no_approval_used_on_record,
    enough_distinct_approvers,
    policy_roles_met,
    preview_not_expired,
    update_has_a_saved_plan,
    no_pending_operations,
    nothing_changed_since_preview,
    not_written_since_preview_on_record,
    saved_plan_intact,
)


def check(facts: ApplyFacts, rules: Sequence[Rule] = RULES) -> Refusal:
    """The first refusal among `rules`, or None when the apply may go ahead."""
    return first_refusal(rules, facts)


def first_refusal(rules: Sequence[Callable[[F], Refusal]], facts: F) -> Refusal:
    for rule in rules:
        refusal = rule(facts)
        if refusal is not None:
            return refusal
    return None


def distinct_approvers(approvals: Sequence[ApprovalFacts]) -> list[str]:
    """The proven people behind valid approvals, each once."""
    people: list[str] = []
    for f in approvals:
        if check_approval(f) is None and f.proof.principal and f.proof.principal not in people:
            people.append(f.proof.principal)
    return people


def preview_age_refusal(preview: PreviewRecord, now: float) -> StalePreview | None:
    """The preview's own expiry rules, whatever the applier's settings say."""
    if now <= preview.expires_epoch:
        return None
    return StalePreview(
        f"preview {preview.preview_id} expired at {int(preview.expires_epoch)} ({int(now - preview.expires_epoch)} s "
        "ago); preview again",
        preview_id=preview.preview_id,
    )
