"""The human half of a change: approving a preview, asking for approval, finding approvals, the dry-run answer."""

from __future__ import annotations

import time
from typing import Any

from engine.approvals import Approval, Method
from engine.audit import OperationRecord
from engine.errors import ApprovalInvalid, ApprovalRequired, InvalidInput, StalePreview
from engine.identity import same_principal
from engine.operations import requirements
from engine.operations.on_record import written_since
from engine.operations.parts import Parts
from engine.operations.provenance import recorded_binding, vouched_for
from engine.operations.rejection import rejection
from engine.previews import PreviewRecord
from engine.results import ApplyResult, PreviewResult, PreviewReview
from engine.trust.approvers import Role
from engine.trust.proofs import Signer, SshSigner, signed
from engine.vocabulary import Kind, Tool


def approve(
    parts: Parts, preview_id: str, *, approver: str, signer: Signer, evidence: dict[str, str] | None = None
) -> Approval:
    """A signed, single-use approval of exactly this preview by `approver` (never the requester), recorded."""
    params = {"preview_id": preview_id, "method": signer.method.value}
    with parts.refusals.guard(Tool.APPROVE, None, approver, params):
        preview = parts.previews.get(preview_id)
    with parts.journal.operation(Tool.APPROVE, preview.stack, approver, params) as op:
        op.preview_id, who = preview_id, op.user  # the journal puts the approver in normal form (or refuses)
        check_fresh(preview)
        check_policy(parts, preview)
        check_not_rejected(parts, preview)
        check_not_written(parts, preview)
        check_vouched_for(parts, preview, signer)
        if same_principal(parts.trust.prover.canonical(who), parts.trust.prover.canonical(preview.user)):
            raise ApprovalInvalid(
                f"{who!r} asked for this preview and cannot approve it: another person must approve",
                preview_id=preview_id,
            )
        expires = min(int(time.time()) + parts.settings.approval_ttl_seconds, preview.expires_epoch)
        draft = Approval(
            preview_id=preview_id,
            kind=preview.kind,
            stack=preview.stack,
            binding=preview.binding(),
            approver=who,
            requested_by=preview.user,
            expires_epoch=expires,
            method=signer.method,
            evidence=evidence or {},
        )
        approval = _checked(parts, preview, signed(draft, signer))
        op.approval_id = approval.approval_id
        return parts.approvals.save(approval)


def check_vouched_for(parts: Parts, preview: PreviewRecord, signer: Signer) -> None:
    """Where this process holds the trail the preview was made on (it recorded the preview, or it signs as the
    server), refuse a preview it did not make: edited, or planted with an audit record of its own. An approver who
    keeps a trail (and a notary key) of their own cannot tell; the apply checks it."""
    holds_the_trail = signer.method is Method.SERVER or recorded_binding(parts, preview) is not None
    if holds_the_trail and not vouched_for(parts, preview):
        raise StalePreview(
            f"preview {preview.preview_id} does not match what the audit trail recorded for it (edited after the "
            "preview?); preview again",
            preview_id=preview.preview_id,
        )


def _checked(parts: Parts, preview: PreviewRecord, approval: Approval) -> Approval:
    """Refuse at once what the apply would refuse later (an unknown key, an approver not allowed this stack)."""
    facts = approval_facts(parts, preview, approval)
    refusal = requirements.check_approval(facts)
    if refusal is not None:
        raise refusal
    return approval


def ssh_approver(parts: Parts, signer: SshSigner) -> str:
    """The principal the trust list gives the signing key."""
    principal = parts.trust.prover.trust().principal_for_key(signer.public_key())
    if principal is None:
        raise ApprovalInvalid(
            f"the key {signer.key_path.name} is not in the trust list {parts.settings.approvers_file.name}"
        )
    return principal


def check_fresh(preview: PreviewRecord) -> None:
    refusal = requirements.preview_age_refusal(preview, time.time())
    if refusal is not None:
        raise refusal


def written_on_record(parts: Parts, preview: PreviewRecord) -> OperationRecord | None:
    """The operation that wrote the preview's stack since it was made, where this process holds the trail that
    recorded the preview (an approver's own trail says nothing of the stack: then None, and the apply decides)."""
    if recorded_binding(parts, preview) is None:
        return None
    return written_since(parts.audit, preview)


def check_not_written(parts: Parts, preview: PreviewRecord) -> None:
    """Nobody is asked to approve, or approves, a preview whose stack was written since: the apply would refuse it."""
    record = written_on_record(parts, preview)
    if record is not None:
        raise requirements.written_refusal(preview, record)


def check_policy(parts: Parts, preview: PreviewRecord) -> None:
    """Nobody approves a preview the policy pack denied, did not judge, or judged with rules since changed."""
    if preview.policy is None or preview.digests.policy != parts.policy.digest():
        raise StalePreview(
            f"the policy pack changed since preview {preview.preview_id} (or never judged it); preview again",
            preview_id=preview.preview_id,
            changed=["policy"],
        )
    refusal = requirements.policy_refusal(preview)
    if refusal is not None:
        raise refusal


def check_not_rejected(parts: Parts, preview: PreviewRecord) -> None:
    said = rejection(parts, preview)
    if said is not None:
        raise ApprovalInvalid(
            f"preview {preview.preview_id} was rejected by {said['rejected_by']}: {said['reason']}; preview again",
            preview_id=preview.preview_id,
        )


def approvals_needed(parts: Parts, preview: PreviewRecord) -> int:
    """The N-person rule for this preview's stack, raised by its policy `require` results."""
    return requirements.needed(parts.trust.required(preview.stack, parts.environment(preview.stack)), preview)


def approval_facts(
    parts: Parts, preview: PreviewRecord, approval: Approval, binding: str = ""
) -> requirements.ApprovalFacts:
    """What the rules need to judge one approval (`binding`: the preview's, when the caller has taken it)."""
    proof = parts.trust.prover.prove(approval, parts.environment(preview.stack))
    return requirements.ApprovalFacts(
        preview=preview,
        approval=approval,
        proof=proof,
        used=parts.approvals.used(approval.approval_id),
        now=time.time(),
        requester=parts.trust.prover.canonical(preview.user),
        roles=approver_roles(parts, approval, proof.principal),
        preview_binding=binding,
    )


def approver_roles(parts: Parts, approval: Approval, principal: str | None) -> frozenset[str]:
    """The roles the trust list gives the proven approver. A dev-mode approval proves nobody, so it claims every
    role: dev mode is no trust boundary, and says so."""
    if approval.method is Method.DEV:
        return frozenset(r.value for r in Role)
    return parts.trust.roles_of(principal)


def find_approvals(parts: Parts, preview_id: str) -> list[str]:
    """The valid, unused approvals of this preview, one per proven person, enough for the N-person rule."""
    preview = parts.previews.get(preview_id)
    binding = preview.binding()
    valid = [
        f
        for f in (approval_facts(parts, preview, a, binding) for a in parts.approvals.for_preview(preview_id))
        if requirements.check_approval(f) is None
    ]
    chosen: dict[str, str] = {}
    for f in sorted(valid, key=lambda f: f.approval.created_at, reverse=True):
        chosen.setdefault(str(f.proof.principal), f.approval.approval_id)
    required = approvals_needed(parts, preview)
    shortfall = requirements.role_shortfall(preview, valid)
    if shortfall is not None:
        raise shortfall
    if len(chosen) < required:
        raise ApprovalRequired(
            f"preview {preview_id} has {len(chosen)} of the {required} approval(s) it needs; a person other than "
            f"{preview.user} must run `datamcp approve {preview_id}`",
            preview_id=preview_id,
            stack=preview.stack,
            approvers=sorted(chosen),
            required=required,
        )
    return list(chosen.values())


def approvals_for(
    parts: Parts, preview_id: str, *, user: str, kind: Kind, operation_id: str | None
) -> tuple[str, list[str]]:
    """(stack, approval ids) for the agents' route, which never holds approval ids; too few approvals is recorded
    as a refused apply."""
    preview = parts.previews.get(preview_id)
    if preview.kind != kind:
        raise InvalidInput(f"preview {preview_id} is a {preview.kind} preview, not a {kind}")
    try:
        return preview.stack, find_approvals(parts, preview_id)
    except ApprovalRequired as refusal:
        params = {"preview_id": preview_id}
        parts.journal.record_refusal(kind.apply_tool, preview.stack, user, params, refusal, operation_id)
        raise


def waiting_reason(parts: Parts, preview_id: str) -> str | None:
    """Why an apply of this preview would wait for approvals (None: enough are there); stale or rejected raises."""
    preview = parts.previews.get(preview_id)
    check_fresh(preview)
    check_not_rejected(parts, preview)
    try:
        find_approvals(parts, preview_id)
    except ApprovalRequired as waiting:
        return waiting.message
    return None


def review(parts: Parts, preview_id: str) -> PreviewReview:
    """Everything an approval of this preview binds, and who has approved it so far."""
    preview = parts.previews.get(preview_id)
    binding = preview.binding()
    facts = [approval_facts(parts, preview, a, binding) for a in parts.approvals.for_preview(preview_id)]
    return PreviewReview(
        preview=PreviewResult.model_validate(preview.result),
        requester=preview.user,
        binding=binding,
        targets=preview.targets,
        refresh=preview.refresh,
        property_diffs=preview.property_diffs,
        approvals_required=approvals_needed(parts, preview),
        approved_by=requirements.distinct_approvers(facts),
        recorded=vouched_for(parts, preview),
        written_by=_written_by(parts, preview),
    )


def _written_by(parts: Parts, preview: PreviewRecord) -> str | None:
    record = written_on_record(parts, preview)
    return f"{record.tool} {record.id}" if record is not None else None


def request_apply(parts: Parts, preview_id: str, *, user: str, reason: str) -> dict[str, Any]:
    """Record that `user` asks people to approve this preview, and say exactly what they must do."""
    preview = parts.previews.get(preview_id)
    params = {"preview_id": preview_id, "reason": reason}
    with parts.journal.operation(Tool.REQUEST_APPLY, preview.stack, user, params) as op:
        op.preview_id = preview_id
        check_fresh(preview)
        check_not_written(parts, preview)
        if not vouched_for(parts, preview):  # nobody is asked to review a planted or edited preview
            raise StalePreview(
                f"preview {preview_id} does not match what the audit trail recorded for it; preview again",
                preview_id=preview_id,
            )
        verb = preview.kind.verb
        signed_mode = parts.settings.approval_mode == "signed"
        return {
            "operation_id": op.id,
            "preview_id": preview_id,
            "stack": preview.stack,
            "kind": preview.kind.value,
            "change_summary": preview.change_summary,
            "approvals_required": approvals_needed(parts, preview),
            "policy": policy_summary(preview),
            "approve_command": f"datamcp approve {preview_id}" + (" --key ~/.ssh/id_ed25519" if signed_mode else ""),
            "apply_command": f"datamcp {verb} {preview.stack} --preview-id {preview_id} --approval-id <approval-id>",
            "ci_route": f"GitHub Actions: run the 'apply' workflow with stack={preview.stack} and "
            f"preview_id={preview_id}; the '{preview.stack}' environment's reviewers approve it",
            "expires_at": preview.result.get("expires_at"),
            "trust": (
                "signed mode: only people in the trust list can approve, each with their own key"
                if signed_mode
                else "dev mode: anyone who can run the CLI here can approve; not a trust boundary"
            ),
        }


def policy_summary(preview: PreviewRecord) -> dict[str, Any]:
    """What the policy decided, in a line an agent or a person can act on."""
    report = preview.policy
    if report is None:
        return {"evaluated": False}
    return {
        "evaluated": True,
        "denied": [r.id for r in report.denied],
        "requires": [q.model_dump() for q in report.requirements()],
        "counts": report.counts(),
    }


def dry_run(stack: str, preview: PreviewResult) -> ApplyResult:
    """What up/destroy without an approved preview answers: the preview, and how to apply it."""
    verb = Kind(preview.kind).verb
    return ApplyResult(
        applied=False,
        operation_id=preview.operation_id,
        stack=stack,
        preview=preview,
        change_summary=preview.change_summary,
        message=(
            f"dry run: nothing was changed. Another person approves with `datamcp approve "
            f"{preview.preview_id}`, then `datamcp {verb} {stack} --preview-id {preview.preview_id} "
            f"--approval-id APPROVAL_ID` applies exactly this preview."
        ),
    )
