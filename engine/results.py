"""Typed results the engine returns; their JSON schemas are what the CLI, MCP server and docs show."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from engine.policy.report import PolicyReport


class SynthResource(BaseModel):
    urn: str
    type: str
    name: str
    custom: bool = Field(description="False for component resources (groupings), True for cloud resources.")
    parent: str | None
    provider: str | None = Field(description="Provider reference (urn::id) for custom resources, if explicit.")
    dependencies: list[str]
    protect: bool
    inputs: dict[str, Any] = Field(description="Inputs as registered; secrets are '[secret]', unknowns '[unknown]'.")


class SynthResult(BaseModel):
    """The full resource graph of a stack, computed offline under mocks (no CLI, no credentials)."""

    schema_version: int = 1
    stack: str
    project: str
    resource_count: int
    custom_resource_count: int
    counts_by_type: dict[str, int]
    resources: list[SynthResource] = Field(description="Sorted by URN.")
    outputs: dict[str, Any] = Field(description="Stack outputs; secrets '[secret]', unknown until applied '[unknown]'.")


class ResourceChange(BaseModel):
    """One resource the operation would change (or changed)."""

    urn: str
    type: str
    op: str = Field(description="create, update, replace, delete, create-replacement, delete-replaced, ...")
    changed_keys: list[str] = Field(default_factory=list, description="Properties that differ.")
    replace_keys: list[str] = Field(default_factory=list, description="Properties that force a replacement.")
    detailed_diff: dict[str, str] = Field(default_factory=dict, description="Property path -> kind of change.")
    parent: str | None = None
    protect: bool = False


class Diagnostic(BaseModel):
    severity: str
    message: str
    urn: str | None = None


class PolicyViolation(BaseModel):
    policy: str
    pack: str
    enforcement: str
    message: str
    urn: str | None = None


class PreviewResult(BaseModel):
    """What a preview found: apply it only through an approval of this preview_id."""

    preview_id: str
    operation_id: str
    kind: str = Field(description="update or destroy")
    stack: str
    user: str
    change_summary: dict[str, int]
    changes: list[ResourceChange]
    diagnostics: list[Diagnostic] = Field(default_factory=list)
    policy_violations: list[PolicyViolation] = Field(default_factory=list)
    pending_operations: list[str] = Field(
        default_factory=list, description="URNs left mid-change by an interrupted run."
    )
    policy: PolicyReport | None = Field(
        default=None, description="The policy pack's decision: deny blocks approval, require raises the approvals."
    )
    duration_seconds: float
    expires_at: str = Field(description="After this an approval of this preview is refused; preview again.")

    @property
    def has_changes(self) -> bool:
        return any(op != "same" and count for op, count in self.change_summary.items())


class ApplyResult(BaseModel):
    """The outcome of up/destroy: applied, or (dry run) the preview that would need approval."""

    applied: bool
    operation_id: str
    stack: str
    preview: PreviewResult | None = None
    change_summary: dict[str, int] = Field(default_factory=dict)
    changes: list[ResourceChange] = Field(default_factory=list)
    outputs: dict[str, Any] = Field(default_factory=dict)
    update_version: int | None = None
    duration_seconds: float = 0.0
    message: str = ""


class RefreshResult(BaseModel):
    operation_id: str
    stack: str
    preview_only: bool
    drifted: list[ResourceChange]
    change_summary: dict[str, int]
    duration_seconds: float


class StackInfo(BaseModel):
    name: str
    cloud: str
    environment: str
    description: str
    config_file: str


class StackDescription(StackInfo):
    config_schema: dict[str, Any]
    outputs: dict[str, Any]
    last_operation: dict[str, Any] | None = None
    deployed: bool


class ProgressEvent(BaseModel):
    """Structured progress for callbacks (CLI progress bar, MCP progress notifications)."""

    operation_id: str
    kind: str = Field(description="started, resource_started, resource_finished, resource_failed, finished")
    urn: str | None = None
    type: str | None = None
    op: str | None = None
    done: int = 0
    total: int | None = None
    message: str = ""


class PreviewReview(BaseModel):
    """Exactly what an approval of a preview binds, for the person deciding (`datamcp show`, the console)."""

    preview: PreviewResult
    requester: str
    binding: str = Field(description="The digest every approval of this preview signs.")
    targets: list[str] = Field(default_factory=list)
    refresh: bool = False
    property_diffs: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per resource URN: {property path: {old, new}}, secrets masked."
    )
    approvals_required: int
    approved_by: list[str] = Field(default_factory=list, description="Proven approvers so far (valid, unused).")
    recorded: bool = Field(
        default=True,
        description="Whether the audit trail holds the preview operation that made exactly this preview: a file "
        "dropped into the store is not, and no approval of it counts.",
    )
    written_by: str | None = Field(
        default=None,
        description="The operation (tool and id) that wrote the stack after this preview was made: the preview is "
        "stale, nobody can approve or apply it; preview again.",
    )
