"""DataMCP's engine: drives stacks through the Pulumi Automation API for the CLI, the MCP server and CI."""

from engine.errors import DataMcpError, InvalidInput, SettingsError, ToolchainError
from engine.settings import Settings, load_settings

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
