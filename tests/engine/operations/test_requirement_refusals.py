"""Each apply rule's refusal exactly as an adapter presents it (code, message, fields), and the rules' edges."""

from __future__ import annotations

import dataclasses
from typing import Any

from engine.approvals import Approval
from engine.operations.requirements import ApplyFacts, ApprovalFacts, check, distinct_approvers
from engine.previews import Digests, PreviewRecord
from engine.trust.proofs import Proof
from engine.vocabulary import Kind
from tests.engine.operations.builders import NOW, STATE, approval, preview


def vouched(p: PreviewRecord, a: Approval, proof: Proof | None = None, **changes: Any) -> ApprovalFacts:
    facts = ApprovalFacts(preview=p, approval=a, proof=proof or Proof(a.approver), used=False, now=NOW)
    return dataclasses.replace(facts, **changes)


def apply_facts(p: PreviewRecord | None = None, *approvals: ApprovalFacts, **changes: Any) -> ApplyFacts:
    p = p or preview()
    base = ApplyFacts(
        stack="aws-dev",
        kind=Kind.UPDATE,
        preview=p,
        approvals=approvals or (vouched(p, approval(p)),),
        required=1,
        now=NOW,
        recorded_binding=p.binding(),
        sealed=True,
        used_on_record={},
        state=STATE,
    )
    return dataclasses.replace(base, **changes)


def refusal(facts: ApplyFacts) -> dict[str, object]:
    found = check(facts)
    assert found is not None
    return found.to_dict()


def approval_refusal(a: ApprovalFacts) -> dict[str, object]:
    return refusal(apply_facts(a.preview, a))


def invalid_approval(message: str, approver: str = "bob") -> dict[str, object]:
    return {"error": "approval_invalid", "message": message, "approval_id": f"appr-{approver}"}


# --- approval rules -------------------------------------------------------------------------------------------------
def test_a_signature_that_proves_nobody_says_why() -> None:
    p = preview()
    a = vouched(p, approval(p), Proof(None, "the signing key is not in the trust list"))
    assert approval_refusal(a) == invalid_approval("the signing key is not in the trust list")


def test_a_signature_that_proves_nobody_without_a_reason_says_so() -> None:
    p = preview()
    assert approval_refusal(vouched(p, approval(p), Proof(None))) == invalid_approval("the signature proves nobody")


def test_an_approval_for_another_preview_says_so() -> None:
    p = preview()
    a = vouched(p, approval(p, binding="0" * 64))
    assert approval_refusal(a) == invalid_approval("the approval is for another preview")


def test_self_approval_says_so() -> None:
    p = preview()
    a = vouched(p, approval(p, "alice"))
    assert approval_refusal(a) == invalid_approval("self-approval is not allowed", "alice")


def test_approving_as_the_person_behind_the_requesters_name_is_self_approval() -> None:
    p = preview(user="github:alice")
    a = vouched(p, approval(p, "alice"), requester="alice")
    assert approval_refusal(a) == invalid_approval("self-approval is not allowed", "alice")


def test_an_expired_approval_says_to_approve_again() -> None:
    p = preview()
    a = vouched(p, approval(p, expires_epoch=NOW - 1))
    assert approval_refusal(a) == invalid_approval("the approval has expired; approve the preview again")


def test_an_approval_counts_up_to_its_expiry_second() -> None:
    p = preview()
    assert check(apply_facts(p, vouched(p, approval(p, expires_epoch=NOW)))) is None


def test_a_used_approval_says_so() -> None:
    p = preview()
    assert approval_refusal(vouched(p, approval(p), used=True)) == invalid_approval("the approval was already used")


# --- preview rules --------------------------------------------------------------------------------------------------
def test_a_preview_of_another_stack_names_both() -> None:
    assert refusal(apply_facts(stack="aws-prod")) == {
        "error": "approval_invalid",
        "message": "preview prev-0001 is an update preview of aws-dev, not an update of aws-prod",
        "preview_id": "prev-0001",
    }


def test_a_preview_the_audit_trail_did_not_record_says_to_preview_again() -> None:
    assert refusal(apply_facts(recorded_binding="0" * 64)) == {
        "error": "stale_preview",
        "message": "preview prev-0001 does not match what the audit trail recorded for it (edited after the "
        "preview?); preview again",
        "preview_id": "prev-0001",
    }


def test_a_preview_without_the_engines_seal_is_refused_like_an_unrecorded_one() -> None:
    assert refusal(apply_facts(sealed=False)) == refusal(apply_facts(recorded_binding=None))


def test_an_approval_the_audit_trail_shows_used_names_the_apply_that_used_it() -> None:
    assert refusal(apply_facts(used_on_record={"appr-bob": "op-00042"})) == invalid_approval(
        "the approval was already used (by operation op-00042)"
    )


def test_too_few_approvers_are_named_with_the_count_needed() -> None:
    assert refusal(apply_facts(required=2)) == {
        "error": "approval_required",
        "message": "stack 'aws-dev' needs approvals by 2 different people; preview prev-0001 has 1 (bob)",
        "preview_id": "prev-0001",
        "required": 2,
        "approvers": ["bob"],
    }


def test_several_approvers_are_listed_when_still_too_few() -> None:
    p = preview()
    two = (vouched(p, approval(p, "bob")), vouched(p, approval(p, "carol")))
    assert "has 2 (bob, carol)" in str(refusal(apply_facts(p, *two, required=3))["message"])


def test_no_approval_at_all_counts_zero_people() -> None:
    facts = dataclasses.replace(apply_facts(required=1), approvals=())
    assert refusal(facts)["message"] == "stack 'aws-dev' needs approvals by 1 different people; preview prev-0001 has 0"


def test_only_proven_people_behind_valid_approvals_count() -> None:
    p = preview()
    approvals = [
        vouched(p, approval(p, "bob")),
        vouched(p, approval(p, "carol"), used=True),
        vouched(p, approval(p, "dave"), Proof(None, "unknown key")),
        vouched(p, approval(p, "bob", approval_id="appr-bob2")),
    ]
    assert distinct_approvers(approvals) == ["bob"]


def test_an_expired_preview_says_when_and_how_long_ago() -> None:
    old = preview(expires_epoch=NOW - 90)
    assert refusal(apply_facts(old, vouched(old, approval(old)))) == {
        "error": "stale_preview",
        "message": f"preview prev-0001 expired at {NOW - 90} (90 s ago); preview again",
        "preview_id": "prev-0001",
    }


def test_a_preview_can_be_applied_up_to_its_expiry_second() -> None:
    p = preview(expires_epoch=NOW)
    assert check(apply_facts(p, vouched(p, approval(p)))) is None


def test_an_update_without_a_saved_plan_says_to_preview_again() -> None:
    bare = preview(plan_file=None, plan_sha256=None)
    assert refusal(apply_facts(bare, vouched(bare, approval(bare)))) == {
        "error": "stale_preview",
        "message": "preview prev-0001 has no saved plan, so it cannot be applied; preview again",
        "preview_id": "prev-0001",
    }


def test_an_update_whose_plan_digest_is_missing_cannot_be_applied() -> None:
    half = preview(plan_sha256=None)
    assert "no saved plan" in str(refusal(apply_facts(half, vouched(half, approval(half))))["message"])


def test_a_destroy_needs_no_saved_plan() -> None:
    p = preview(kind=Kind.DESTROY, plan_file=None, plan_sha256=None)
    assert check(apply_facts(p, vouched(p, approval(p)), kind=Kind.DESTROY)) is None


# --- state rules ----------------------------------------------------------------------------------------------------
def test_pending_operations_name_the_resources_and_the_way_out() -> None:
    state = dataclasses.replace(STATE, pending=("urn:a", "urn:b"))
    assert refusal(apply_facts(state=state)) == {
        "error": "pending_operations",
        "message": "stack 'aws-dev' has 2 operation(s) left pending by an interrupted run: urn:a, urn:b. Run "
        "`datamcp refresh aws-dev --apply --clear-pending-creates` after checking those resources in the cloud.",
        "stack": "aws-dev",
        "pending": ["urn:a", "urn:b"],
    }


def test_changed_digests_are_named_together() -> None:
    changed = Digests(program="x" * 64, config="y" * 64, state="s" * 64, policy="o" * 64)
    assert refusal(apply_facts(state=dataclasses.replace(STATE, digests=changed))) == {
        "error": "stale_preview",
        "message": "the program and config changed since preview prev-0001; preview again",
        "preview_id": "prev-0001",
        "changed": ["program", "config"],
    }


def test_an_altered_saved_plan_says_so() -> None:
    assert refusal(apply_facts(state=dataclasses.replace(STATE, plan_sha256="b" * 64))) == {
        "error": "stale_preview",
        "message": "the saved plan of preview prev-0001 is missing or altered",
        "preview_id": "prev-0001",
    }
