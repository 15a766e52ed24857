"""What the policy pack decided about one preview: results, waivers and the approvals they require."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from engine.errors import PolicyError

SCHEMA_VERSION = 1  # of the input document (engine/policy/document.py, docs/policy.md)
Decision = Literal["deny", "require", "warn"]
Severity = Literal["critical", "high", "medium", "low"]
RuleRole = Literal["approver", "admin", "security"]
DECISIONS: tuple[Decision, ...] = ("deny", "require", "warn")


class PolicyResult(BaseModel):
    """One rule's finding: what is wrong where, and how to fix it."""

    id: str = Field(pattern=r"^[A-Z][A-Z0-9-]{2,63}$", description="The rule's stable id.")
    decision: Decision
    severity: Severity
    urn: str | None = None
    message: str = Field(max_length=2000)
    remediation: str = Field(max_length=2000)
    approvals: int | None = Field(default=None, ge=1, le=10, description="require: how many approvers...")
    role: RuleRole | None = Field(default=None, description="require: ...holding this role.")


class Waiver(BaseModel):
    """A result the stack's config switched off (`datamcp:policy_exceptions`), with the recorded reason."""

    id: str
    reason: str
    urn: str | None = None
    message: str


class RoleRequirement(BaseModel):
    """At least `approvals` distinct approvers holding `role` (approver: anyone allowed to approve)."""

    role: RuleRole
    approvals: int
    rules: list[str]


class PolicyReport(BaseModel):
    """The pack's decision on one preview, bound into the preview's record (and so into every approval of it)."""

    input_schema_version: int
    pack_digest: str
    results: list[PolicyResult] = Field(default_factory=list)
    waived: list[Waiver] = Field(default_factory=list)

    @property
    def denied(self) -> list[PolicyResult]:
        return [r for r in self.results if r.decision == "deny"]

    def requirements(self) -> list[RoleRequirement]:
        """The `require` results merged per role (the largest count wins)."""
        merged: dict[str, RoleRequirement] = {}
        for r in self.results:
            if r.decision != "require" or r.role is None or r.approvals is None:
                continue
            known = merged.setdefault(r.role, RoleRequirement(role=r.role, approvals=r.approvals, rules=[]))
            known.approvals = max(known.approvals, r.approvals)
            if r.id not in known.rules:
                known.rules.append(r.id)
        return sorted(merged.values(), key=lambda q: q.role)

    def min_approvals(self) -> int:
        return max((q.approvals for q in self.requirements()), default=0)

    def counts(self) -> dict[str, int]:
        return {d: sum(r.decision == d for r in self.results) for d in DECISIONS}


def report_from_decision(
    decision: dict[str, Any], *, pack_digest: str, schema_version: int, exceptions: dict[str, str]
) -> PolicyReport:
    """The pack's raw decision as a typed report; results whose rule the stack switched off become waivers."""
    results: list[PolicyResult] = []
    waived: list[Waiver] = []
    for kind in DECISIONS:
        entries = decision.get(kind, [])
        if not isinstance(entries, list):
            raise PolicyError(f"the policy decision's {kind!r} must be a list")
        for entry in entries:
            result = _result(kind, entry)
            if result.id in exceptions and kind != "require":  # a waiver never lowers what a risky change needs
                waived.append(
                    Waiver(id=result.id, reason=exceptions[result.id], urn=result.urn, message=result.message)
                )
            else:
                results.append(result)
    return PolicyReport(input_schema_version=schema_version, pack_digest=pack_digest, results=results, waived=waived)


def _result(kind: Decision, entry: Any) -> PolicyResult:
    if not isinstance(entry, dict):
        raise PolicyError(f"a {kind} result of the policy pack is not an object: {str(entry)[:100]}")
    try:
        result = PolicyResult.model_validate({**entry, "decision": kind})
    except ValidationError as exc:
        raise PolicyError(f"a {kind} result of the policy pack is malformed: {exc.errors()[0]['msg']}") from None
    if kind == "require" and (result.approvals is None or result.role is None):
        raise PolicyError(f"require result {result.id} needs `approvals` and `role`")
    return result
