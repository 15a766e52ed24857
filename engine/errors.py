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
