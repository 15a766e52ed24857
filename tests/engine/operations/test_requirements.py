"""The apply requirements, one rule at a time, without the CLI: each fact that breaks a rule gives its refusal."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from engine.approvals import Approval
from engine.errors import ApprovalInvalid, PendingOperations, StalePreview
from engine.operations import requirements
from engine.operations.requirements import ApplyFacts, StateFacts, check
from engine.previews import Digests, PreviewRecord
from engine.vocabulary import Kind

NOW = 1_800_000_000.0
DIGESTS = Digests(program="p" * 64, config="c" * 64, state="s" * 32)


def preview(**changes: Any) -> PreviewRecord:
    base = PreviewRecord(
        preview_id="prev-0001",
        kind=Kind.UPDATE,
        stack="aws-dev",
        user="alice",
        created_at="2027-01-15T08:00:00+00:00",
        created_epoch=NOW - 60,
        operation_id="op-00001",
        digests=DIGESTS,
        plan_file="prev-0001.plan.json",
        plan_sha256="a" * 64,
    )
    return base.model_copy(update=changes)


def approval(p: PreviewRecord, **changes: Any) -> Approval:
    base = Approval(
        approval_id="appr-0001",
        preview_id=p.preview_id,
        kind=p.kind,
        stack=p.stack,
        binding=p.binding(),
        approver="bob",
        requested_by=p.user,
        created_at="2027-01-15T08:01:00+00:00",
        expires_epoch=NOW + 600,
    )
    return base.model_copy(update=changes)


def facts(p: PreviewRecord | None = None, a: Approval | None = None, **changes: Any) -> ApplyFacts:
    p = p or preview()
    base = ApplyFacts(
        stack="aws-dev",
        kind=Kind.UPDATE,
        preview=p,
        approval=a or approval(p),
        signature_ok=True,
        approval_used=False,
        now=NOW,
        preview_ttl_seconds=3600,
        state=StateFacts(digests=DIGESTS, pending=(), plan_sha256="a" * 64),
    )
    return dataclasses.replace(base, **changes)


def test_all_requirements_met_allows_the_apply() -> None:
    assert check(facts()) is None


def test_a_preview_of_another_stack_is_refused() -> None:
    assert isinstance(check(facts(stack="aws-prod")), ApprovalInvalid)


def test_a_destroy_preview_cannot_be_applied_as_an_update() -> None:
    p = preview(kind=Kind.DESTROY)
    refusal = check(facts(p, approval(p)))
    assert isinstance(refusal, ApprovalInvalid) and "destroy preview" in refusal.message


def test_a_forged_signature_is_refused() -> None:
    refusal = check(facts(signature_ok=False))
    assert isinstance(refusal, ApprovalInvalid) and "signature" in refusal.message


def test_an_approval_of_another_preview_is_refused() -> None:
    p = preview()
    other = approval(p, preview_id="prev-0002")
    assert "another preview" in str(check(facts(p, other)))


def test_an_approval_whose_binding_differs_is_refused() -> None:
    p = preview()
    stale = approval(p, binding="0" * 64)
    assert "another preview" in str(check(facts(p, stale)))


def test_an_approval_for_another_kind_is_refused() -> None:
    p = preview()
    assert "is for a destroy" in str(check(facts(p, approval(p, kind=Kind.DESTROY))))


def test_self_approval_is_refused() -> None:
    p = preview()
    assert "self-approval" in str(check(facts(p, approval(p, approver="alice"))))


def test_an_expired_approval_is_refused() -> None:
    p = preview()
    assert "expired" in str(check(facts(p, approval(p, expires_epoch=NOW - 1))))


def test_a_used_approval_is_refused() -> None:
    assert "already used" in str(check(facts(approval_used=True)))


def test_a_preview_older_than_its_ttl_is_refused() -> None:
    old = preview(created_epoch=NOW - 3601)
    refusal = check(facts(old, approval(old)))
    assert isinstance(refusal, StalePreview) and "old" in refusal.message


def test_pending_operations_refuse_the_apply() -> None:
    state = StateFacts(digests=DIGESTS, pending=("urn:pulumi:aws-dev::datamcp::aws:s3/bucket:Bucket::b",))
    assert isinstance(check(facts(state=dataclasses.replace(state, plan_sha256="a" * 64))), PendingOperations)


@pytest.mark.parametrize("field", ["program", "config", "state"])
def test_a_digest_that_changed_since_the_preview_is_refused(field: str) -> None:
    changed = DIGESTS.model_copy(update={field: "x" * 64})
    refusal = check(facts(state=StateFacts(digests=changed, plan_sha256="a" * 64)))
    assert isinstance(refusal, StalePreview) and field in refusal.message


@pytest.mark.parametrize("on_disk", [None, "b" * 64])
def test_a_missing_or_altered_saved_plan_is_refused(on_disk: str | None) -> None:
    refusal = check(facts(state=StateFacts(digests=DIGESTS, plan_sha256=on_disk)))
    assert isinstance(refusal, StalePreview) and "saved plan" in refusal.message


def test_state_rules_wait_until_the_state_is_known() -> None:
    assert check(facts(state=None)) is None


def test_every_rule_is_in_the_table_once() -> None:
    rules = [getattr(requirements, name) for name in dir(requirements) if callable(getattr(requirements, name))]
    named = {r for r in rules if getattr(r, "__module__", "") == requirements.__name__ and r in requirements.RULES}
    assert len(requirements.RULES) == len(set(requirements.RULES)) == len(named) == 11
