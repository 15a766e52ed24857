"""The policy's part of the apply requirements, without the CLI: a deny stops everything, a require raises the count
and the roles, a preview the pack never judged is stale."""

from __future__ import annotations

from engine.errors import ApprovalRequired, PolicyDenied, StalePreview
from engine.operations import requirements
from engine.operations.requirements import check
from engine.policy.report import PolicyReport, PolicyResult
from engine.previews import PreviewRecord
from engine.vocabulary import Kind
from tests.engine.operations.builders import CLEAN, approval, preview
from tests.engine.operations.test_requirements import approval_facts, facts

URN = "urn:pulumi:aws-dev::datamcp::aws:dynamodb/table:Table::ops-log"


def finding(decision: str, rule: str = "DM-TEST-001", **extra: object) -> PolicyResult:
    return PolicyResult.model_validate(
        {"id": rule, "decision": decision, "severity": "high", "urn": URN, "message": "m", "remediation": "r", **extra}
    )


def judged(*results: PolicyResult) -> PreviewRecord:
    return preview(policy=CLEAN.model_copy(update={"results": list(results)}))


def approved_by(p: PreviewRecord, *people: tuple[str, frozenset[str]]) -> list[requirements.ApprovalFacts]:
    return [approval_facts(p, approval(p, name), roles=roles) for name, roles in people]


def test_a_preview_the_pack_never_judged_is_stale() -> None:
    p = preview(policy=None)
    refusal = check(facts(p, approval_facts(p, approval(p))))
    assert isinstance(refusal, StalePreview) and "policy" in refusal.message


def test_a_denied_preview_is_refused_whoever_approved_it() -> None:
    p = judged(finding("deny", "DM-S3-001"), finding("warn", "DM-TAG-001"))
    admins = approved_by(p, ("bob", frozenset({"admin", "security"})), ("carol", frozenset({"admin"})))
    refusal = check(facts(p, *admins, required=1))
    assert isinstance(refusal, PolicyDenied)
    assert refusal.details["rules"] == ["DM-S3-001"]
    assert "DM-S3-001" in refusal.message


def test_warnings_alone_change_nothing() -> None:
    p = judged(finding("warn"))
    assert check(facts(p, approval_facts(p, approval(p)))) is None


def test_a_require_raises_the_count_of_people() -> None:
    p = judged(finding("require", approvals=2, role="approver"))
    one = approved_by(p, ("bob", frozenset()))
    refusal = check(facts(p, *one, required=1))
    assert isinstance(refusal, ApprovalRequired) and refusal.details["required"] == 2
    two = approved_by(p, ("bob", frozenset()), ("carol", frozenset()))
    assert check(facts(p, *two, required=1)) is None


def test_a_required_role_must_be_held_by_enough_of_the_approvers() -> None:
    p = judged(finding("require", "DM-RISK-001", approvals=2, role="admin"))
    one_admin = approved_by(p, ("bob", frozenset({"admin"})), ("carol", frozenset({"approver"})))
    refusal = check(facts(p, *one_admin, required=1))
    assert isinstance(refusal, ApprovalRequired)
    assert refusal.details == {"preview_id": "prev-0001", "role": "admin", "required": 2, "approvers": ["bob"]}
    two_admins = approved_by(p, ("bob", frozenset({"admin"})), ("carol", frozenset({"admin", "approver"})))
    assert check(facts(p, *two_admins, required=1)) is None


def test_the_role_of_another_approval_does_not_lend_itself() -> None:
    """carol's approval does not count twice, and bob's roles are his own."""
    p = judged(finding("require", "DM-IAM-001", approvals=1, role="security"))
    facts_ = approved_by(p, ("bob", frozenset({"approver"})), ("carol", frozenset()))
    assert isinstance(check(facts(p, *facts_, required=1)), ApprovalRequired)


def test_requirements_merge_per_role_with_the_largest_count() -> None:
    report = PolicyReport(
        input_schema_version=1,
        pack_digest="o" * 64,
        results=[
            finding("require", "DM-A-001", approvals=1, role="admin"),
            finding("require", "DM-B-001", approvals=2, role="admin"),
            finding("require", "DM-C-001", approvals=1, role="security"),
        ],
    )
    assert [(q.role, q.approvals, q.rules) for q in report.requirements()] == [
        ("admin", 2, ["DM-A-001", "DM-B-001"]),
        ("security", 1, ["DM-C-001"]),
    ]
    assert report.min_approvals() == 2


def test_the_refusals_say_exactly_what_is_missing() -> None:
    p = preview(policy=None)
    stale = check(facts(p, approval_facts(p, approval(p))))
    assert stale is not None and stale.to_dict() == {
        "error": "stale_preview",
        "message": "preview prev-0001 was not checked by the policy pack; preview again",
        "preview_id": "prev-0001",
    }
    six = judged(*(finding("deny", f"DM-T-00{i}") for i in range(1, 7)))
    denied = requirements.policy_refusal(six)
    assert denied is not None and denied.details == {
        "preview_id": "prev-0001",
        "rules": [f"DM-T-00{i}" for i in range(1, 7)],
    }
    assert denied.message == (
        "the policy pack denies preview prev-0001 (6 finding(s): DM-T-001: m; DM-T-002: m; DM-T-003: m; DM-T-004: m; "
        "DM-T-005: m); fix the program or config and preview again"
    )
    assert requirements.policy_refusal(preview(policy=None)) is None


def test_a_role_shortfall_names_the_rules_and_who_approved() -> None:
    p = judged(
        finding("require", "DM-A-001", approvals=2, role="admin"),
        finding("require", "DM-B-001", approvals=1, role="admin"),
    )
    some = approved_by(p, ("bob", frozenset({"admin"})))
    short = requirements.role_shortfall(p, some)
    assert short is not None and short.message == (
        "policy DM-A-001, DM-B-001 requires 2 approval(s) by people with the admin role; preview prev-0001 has 1 (bob)"
    )
    none = requirements.role_shortfall(p, approved_by(p, ("carol", frozenset())))
    assert none is not None and none.message.endswith("preview prev-0001 has 0")


def test_the_count_needed_is_the_larger_of_the_rule_and_the_policy() -> None:
    assert requirements.needed(0, preview(policy=None)) == 0
    assert requirements.needed(1, preview(policy=None)) == 1
    two = judged(finding("require", approvals=2, role="admin"))
    assert requirements.needed(1, two) == 2 and requirements.needed(3, two) == 3


def test_an_approval_for_another_kind_says_which() -> None:
    p = preview()
    wrong = approval_facts(p, approval(p, kind=Kind.DESTROY))
    refused = requirements.check_approval(wrong)
    assert refused is not None and refused.message == "the approval is for a destroy of aws-dev, not an update"


def test_the_other_kind_and_every_holder_are_named() -> None:
    p = preview(kind=Kind.DESTROY)
    refused = requirements.check_approval(approval_facts(p, approval(p, kind=Kind.UPDATE)))
    assert refused is not None and refused.message == "the approval is for an update of aws-dev, not a destroy"
    three = judged(finding("require", "DM-A-001", approvals=3, role="admin"))
    admins = approved_by(three, ("bob", frozenset({"admin"})), ("carol", frozenset({"admin"})))
    short = requirements.role_shortfall(three, admins)
    assert short is not None and short.message.endswith("has 2 (bob, carol)")
