"""The policy's part of the apply requirements, without the CLI: a deny stops everything, a require raises the count
and the roles, a preview the pack never judged is stale."""

from __future__ import annotations

from engine.errors import ApprovalRequired, PolicyDenied, StalePreview
from engine.operations import requirements
from engine.operations.requirements import check
from engine.policy.report import PolicyReport, PolicyResult
from engine.previews import PreviewRecord
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
