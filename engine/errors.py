"""The one error hierarchy every adapter (CLI, MCP server, CI) presents to its users."""

from __future__ import annotations


class DataMcpError(Exception):
    """Base of every error DataMCP raises on purpose; `code` is stable and machine-readable."""

    code = "datamcp_error"

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.details}


class InvalidInput(DataMcpError):
    """A caller passed a value that cannot be used; nothing was changed."""

    code = "invalid_input"


class SettingsError(InvalidInput):
    """The environment or settings file holds a value DataMCP cannot start with."""

    code = "invalid_settings"


class ToolchainError(DataMcpError):
    """A required tool (the pulumi CLI, helm, ...) is missing or has the wrong version."""

    code = "toolchain_error"


class StackNotFound(InvalidInput):
    """The stack name is not in the registry."""

    code = "stack_not_found"


class StackConfigInvalid(InvalidInput):
    """A stack's Pulumi.<stack>.yaml holds an unknown key or an impossible value; `file` and `key` say where."""

    code = "stack_config_invalid"


class ProgramError(DataMcpError):
    """The stack program itself failed (a bug, or a provider invoke that failed)."""

    code = "program_error"


class StackBusy(DataMcpError):
    """Another operation holds the stack's lock; `holder` says who and since when."""

    code = "stack_busy"


class ApprovalRequired(DataMcpError):
    """The change needs a human's approval of this exact preview first."""

    code = "approval_required"


class ApprovalInvalid(DataMcpError):
    """The approval is unknown, forged, expired, used, for another preview, or self-approved."""

    code = "approval_invalid"


class StalePreview(DataMcpError):
    """The program, config or state changed since the preview (or it is too old): preview again."""

    code = "stale_preview"


class AuditUnavailable(DataMcpError):
    """The audit record cannot be written; mutating operations do not run without it."""

    code = "audit_unavailable"


class OperationNotFound(InvalidInput):
    code = "operation_not_found"


class PreviewNotFound(InvalidInput):
    code = "preview_not_found"


class OperationFailed(DataMcpError):
    """The pulumi operation ran and failed; `operation_id` points at its audit record."""

    code = "operation_failed"


class OperationCancelled(DataMcpError):
    code = "operation_cancelled"


class PendingOperations(DataMcpError):
    """A previous run was interrupted mid-change; the listed resources are in an unknown state."""

    code = "pending_operations"
