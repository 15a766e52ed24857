"""DataMCP's engine: drives stacks through the Pulumi Automation API for the CLI, the MCP server and CI."""

from engine.bytecode import use_private_prefix

use_private_prefix()  # before any other project module is imported: checkout bytecode is never trusted

from engine.errors import DataMcpError, InvalidInput, SettingsError, ToolchainError  # noqa: E402
from engine.settings import Settings, load_settings  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "DataMcpError",
    "InvalidInput",
    "Settings",
    "SettingsError",
    "ToolchainError",
    "__version__",
    "load_settings",
]
