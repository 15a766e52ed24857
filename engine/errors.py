"""The one error hierarchy every adapter (CLI, MCP server, CI) presents to its users.

Each error carries how it ends an operation (`outcome`, recorded in the audit trail) and the CLI's exit code, so no
adapter keeps its own table of which error means what.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import ClassVar


class Outcome(StrEnum):
    """How an error ends an operation (the audit record's final status)."""

    REFUSED = "refused"  # a safety rule or bad input stopped it before anything changed
    FAILED = "failed"
    CANCELLED = "cancelled"


class ExitCode(IntEnum):
    """The CLI's exit codes (docs/cli.md): stable, so scripts and CI can branch on them."""

    OK = 0
    FAILED = 1  # the operation ran and failed, or a check failed
    USAGE = 2  # argparse's own code for bad command-line syntax
    INVALID = 3  # bad input or settings: nothing was run
    REFUSED = 4  # refused by a safety rule (approval, stale preview): nothing was changed
    BUSY = 5  # the stack is locked by another operation
    CANCELLED = 6  # the operation was cancelled
    DRIFT = 7  # refresh --preview-only found drift (for scheduled checks)


class DataMcpError(Exception):
    """Base of every error DataMCP raises on purpose; `code` is stable and machine-readable."""

    code = "datamcp_error"
    outcome: ClassVar[Outcome] = Outcome.FAILED
    exit_code: ClassVar[ExitCode] = ExitCode.FAILED

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, object]:
        return {"error": self.code, "message": self.message, **self.details}


class InvalidInput(DataMcpError):
    """A caller passed a value that cannot be used; nothing was changed."""

    code = "invalid_input"
    outcome = Outcome.REFUSED
    exit_code = ExitCode.INVALID


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
    outcome = Outcome.REFUSED
    exit_code = ExitCode.BUSY


class LeaseLost(StackBusy):
    """The stack's lease expired or passed to another host: this operation must not run (or go on) its CLI."""

    code = "lease_lost"


class ApprovalRequired(DataMcpError):
    """The change needs a human's approval of this exact preview first."""

    code = "approval_required"
    outcome = Outcome.REFUSED
    exit_code = ExitCode.REFUSED


class ApprovalInvalid(DataMcpError):
    """The approval is unknown, forged, expired, used, for another preview, or self-approved."""

    code = "approval_invalid"
    outcome = Outcome.REFUSED
    exit_code = ExitCode.REFUSED


class StalePreview(DataMcpError):
    """The program, config or state changed since the preview (or it is too old): preview again."""

    code = "stale_preview"
    outcome = Outcome.REFUSED
    exit_code = ExitCode.REFUSED


class PolicyDenied(DataMcpError):
    """The policy pack denies this preview: it cannot be approved or applied; change the program or config."""

    code = "policy_denied"
    outcome = Outcome.REFUSED
    exit_code = ExitCode.REFUSED


class PolicyError(DataMcpError):
    """The policy pack could not be evaluated (OPA missing or failing, a malformed decision): nothing is approved."""

    code = "policy_error"


class AuditUnavailable(DataMcpError):
    """The audit record cannot be written; mutating operations do not run without it."""

    code = "audit_unavailable"


class StoreUnavailable(DataMcpError):
    """The shared store (PostgreSQL) cannot be reached or refused a write; nothing that needs it runs."""

    code = "store_unavailable"


class OperationNotFound(InvalidInput):
    code = "operation_not_found"


class PreviewNotFound(InvalidInput):
    code = "preview_not_found"


class OperationFailed(DataMcpError):
    """The pulumi operation ran and failed; `operation_id` points at its audit record."""

    code = "operation_failed"


class OperationCancelled(DataMcpError):
    code = "operation_cancelled"
    outcome = Outcome.CANCELLED
    exit_code = ExitCode.CANCELLED


class PendingOperations(DataMcpError):
    """A previous run was interrupted mid-change; the listed resources are in an unknown state."""

    code = "pending_operations"
    outcome = Outcome.REFUSED
    exit_code = ExitCode.REFUSED


class SandboxModeMismatch(DataMcpError):
    """The stack's state was made in the other mode (simulated vs real cloud); running would corrupt it."""

    code = "sandbox_mode_mismatch"
    outcome = Outcome.REFUSED
    exit_code = ExitCode.REFUSED


class InvalidIdentity(InvalidInput):
    """A principal name is empty, too long, invisible, mixed-script or otherwise unusable as an identity."""

    code = "invalid_identity"


class SignatureInvalid(ApprovalInvalid):
    """A signature does not verify: altered message, unknown key, wrong namespace or wrong signer."""

    code = "signature_invalid"


class TrustListInvalid(InvalidInput):
    """The approvers trust list cannot be read or holds an invalid entry; `file` and `entry` say where."""

    code = "trust_list_invalid"


class ServerKeyInvalid(InvalidInput):
    """The server's signing key is missing, unsafe (readable by others, not ours) or not an Ed25519 key."""

    code = "server_key_invalid"
