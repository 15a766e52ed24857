"""The apply requirements, one rule at a time, without the CLI: each fact that breaks a rule gives its refusal."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine.approvals import Approval
from engine.audit import OperationRecord
from engine.errors import ApprovalInvalid, ApprovalRequired, PendingOperations, StalePreview
from engine.operations import requirements
from engine.operations.requirements import ApplyFacts, ApprovalFacts, check
from engine.previews import PreviewRecord
from engine.trust.proofs import Proof
from engine.vocabulary import Kind
from tests.engine.operations.builders import DIGESTS, NOW, STATE, approval, preview


def approval_facts(p: PreviewRecord, a: Approval, proven: str | None = "", **changes: Any) -> ApprovalFacts:
    """`proven`: who the signature proves ("" the named approver, None nobody)."""
    proof = Proof(None, "the signing key is not in the trust list") if proven is None else Proof(proven or a.approver)
    return dataclasses.replace(ApprovalFacts(preview=p, approval=a, proof=proof, used=False, now=NOW), **changes)


def facts(p: PreviewRecord | None = None, *approvals: ApprovalFacts, **changes: Any) -> ApplyFacts:
    p = p or preview()
    base = ApplyFacts(
        stack="aws-dev",
        kind=Kind.UPDATE,
        preview=p,
        approvals=approvals or (approval_facts(p, approval(p)),),
        required=1,
        now=NOW,
        recorded_binding=p.binding(),
        sealed=True,
        used_on_record={},
        state=STATE,
    )
    return dataclasses.replace(base, **changes)


def refusal_of(a: ApprovalFacts) -> str:
    p = a.preview
    return str(check(facts(p, a)))


def test_all_requirements_met_allows_the_apply() -> None:
    assert check(facts()) is None


@pytest.mark.parametrize("field", ["user", "plan_file", "targets"])
def test_a_preview_file_edited_before_approval_is_refused(field: str) -> None:
    recorded = preview()
    edited = recorded.model_copy(update={field: {"user": "zed", "plan_file": None, "targets": ["x"]}[field]})
    refusal = check(facts(edited, approval_facts(edited, approval(edited)), recorded_binding=recorded.binding()))
    assert isinstance(refusal, StalePreview) and "audit trail recorded" in refusal.message


def test_a_preview_the_audit_trail_never_recorded_is_refused() -> None:
    assert isinstance(check(facts(recorded_binding=None)), StalePreview)


def test_a_recorded_preview_without_the_engines_seal_is_refused() -> None:
    """A planted copy of a real preview with an audit record appended for it: recorded, but the engine never sealed
    it."""
    assert isinstance(check(facts(sealed=False)), StalePreview)


def test_an_approval_an_earlier_apply_used_on_record_is_refused_though_the_store_says_unused() -> None:
    p = preview()
    two = (approval_facts(p, approval(p, "bob")), approval_facts(p, approval(p, "carol")))
    refusal = check(facts(p, *two, required=2, used_on_record={"appr-carol": "op-00007"}))
    assert isinstance(refusal, ApprovalInvalid) and refusal.details == {"approval_id": "appr-carol"}


def test_an_earlier_use_of_another_approval_does_not_refuse_this_one() -> None:
    assert check(facts(used_on_record={"appr-dave": "op-00007"})) is None


def test_a_preview_of_another_stack_is_refused() -> None:
    assert isinstance(check(facts(stack="aws-prod")), ApprovalInvalid)


def test_a_destroy_preview_cannot_be_applied_as_an_update() -> None:
    p = preview(kind=Kind.DESTROY)
    refusal = check(facts(p, approval_facts(p, approval(p))))
    assert isinstance(refusal, ApprovalInvalid) and "destroy preview" in refusal.message


def test_a_signature_that_proves_nobody_is_refused() -> None:
    p = preview()
    assert "not in the trust list" in refusal_of(approval_facts(p, approval(p), proven=None))


def test_an_approval_signed_by_someone_else_than_it_names_is_refused() -> None:
    p = preview()
    assert "signed by 'mallory'" in refusal_of(approval_facts(p, approval(p), proven="mallory"))


def test_an_approval_of_another_preview_is_refused() -> None:
    p = preview()
    assert "another preview" in refusal_of(approval_facts(p, approval(p, preview_id="prev-0002")))


def test_an_approval_whose_binding_differs_is_refused() -> None:
    p = preview()
    assert "another preview" in refusal_of(approval_facts(p, approval(p, binding="0" * 64)))


@pytest.mark.parametrize(
    "field", ["user", "targets", "refresh", "expires_epoch", "plan_file", "plan_sha256", "digests", "kind"]
)
def test_every_field_that_decides_the_apply_is_in_the_binding(field: str) -> None:
    p = preview()
    changed = {
        "user": "mallory",
        "targets": ["urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::b"],
        "refresh": True,
        "expires_epoch": NOW + 99_999,
        "plan_file": None,
        "plan_sha256": "b" * 64,
        "digests": DIGESTS.model_copy(update={"program": "q" * 64}),
        "kind": Kind.DESTROY,
    }[field]
    assert p.model_copy(update={field: changed}).binding() != p.binding()


def test_an_approval_for_another_kind_is_refused() -> None:
    p = preview()
    assert "is for a destroy" in refusal_of(approval_facts(p, approval(p, kind=Kind.DESTROY)))


@pytest.mark.parametrize("name", ["alice", "Alice", " alice", "\uff21\uff2c\uff29\uff23\uff25"])
def test_self_approval_is_refused_whatever_the_spelling(name: str) -> None:
    p = preview()
    assert "self-approval" in refusal_of(approval_facts(p, approval(p, approver=name), proven="alice"))


def test_an_expired_approval_is_refused() -> None:
    p = preview()
    assert "expired" in refusal_of(approval_facts(p, approval(p, expires_epoch=NOW - 1)))


def test_a_used_approval_is_refused() -> None:
    p = preview()
    assert "already used" in refusal_of(approval_facts(p, approval(p), used=True))


def test_a_preview_past_its_own_expiry_is_refused() -> None:
    old = preview(expires_epoch=NOW - 1)
    refusal = check(facts(old, approval_facts(old, approval(old))))
    assert isinstance(refusal, StalePreview) and "expired" in refusal.message


def test_an_update_without_a_saved_plan_is_refused() -> None:
    bare = preview(plan_file=None, plan_sha256=None)
    refusal = check(facts(bare, approval_facts(bare, approval(bare))))
    assert isinstance(refusal, StalePreview) and "no saved plan" in refusal.message


def test_two_approvers_are_needed_where_two_are_required() -> None:
    p = preview()
    refusal = check(facts(p, approval_facts(p, approval(p)), required=2))
    assert isinstance(refusal, ApprovalRequired) and "2 different people" in refusal.message


def test_the_same_person_twice_counts_once() -> None:
    p = preview()
    twice = (approval_facts(p, approval(p)), approval_facts(p, approval(p, approval_id="appr-bob2")))
    assert isinstance(check(facts(p, *twice, required=2)), ApprovalRequired)


def test_two_different_approvers_meet_a_two_person_rule() -> None:
    p = preview()
    two = (approval_facts(p, approval(p, "bob")), approval_facts(p, approval(p, "carol")))
    assert check(facts(p, *two, required=2)) is None


def test_pending_operations_refuse_the_apply() -> None:
    state = dataclasses.replace(STATE, pending=("urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::b",))
    assert isinstance(check(facts(state=state)), PendingOperations)


@pytest.mark.parametrize("field", ["program", "config", "state"])
def test_a_digest_that_changed_since_the_preview_is_refused(field: str) -> None:
    changed = DIGESTS.model_copy(update={field: "x" * 64})
    refusal = check(facts(state=dataclasses.replace(STATE, digests=changed)))
    assert isinstance(refusal, StalePreview) and field in refusal.message


@pytest.mark.parametrize("on_disk", [None, "b" * 64])
def test_a_missing_or_altered_saved_plan_is_refused(on_disk: str | None) -> None:
    refusal = check(facts(state=dataclasses.replace(STATE, plan_sha256=on_disk)))
    assert isinstance(refusal, StalePreview) and "saved plan" in refusal.message


WRITE = OperationRecord(id="op-00009", user="carol", tool="up", status="succeeded", start_ts="t", stack="aws-dev")


def test_a_stack_written_since_the_preview_is_refused_though_its_state_digest_matches_again() -> None:
    refusal = check(facts(changed_on_record=WRITE))  # STATE holds the preview's own digests: a restored checkpoint
    assert isinstance(refusal, StalePreview) and "written by up op-00009" in refusal.message
    assert refusal.details["written_by"] == "op-00009"


def test_a_changed_digest_keeps_its_own_message_when_the_stack_was_also_written() -> None:
    changed = dataclasses.replace(STATE, digests=DIGESTS.model_copy(update={"state": "x" * 64}))
    refusal = check(facts(state=changed, changed_on_record=WRITE))
    assert isinstance(refusal, StalePreview) and "state changed" in refusal.message


def test_state_rules_wait_until_the_state_is_known() -> None:
    assert check(facts(state=None)) is None
    assert check(facts(state=None, changed_on_record=WRITE)) is None


def test_every_rule_is_in_its_table_once() -> None:
    assert len(requirements.RULES) == len(set(requirements.RULES)) == 15
    assert len(requirements.APPROVAL_RULES) == len(set(requirements.APPROVAL_RULES)) == 7
