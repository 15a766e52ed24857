"""The MCP server's settings: read from DATAMCP_MCP_* variables, bad values are one typed error naming the variable."""

from __future__ import annotations

import pytest

from engine.errors import SettingsError
from engine.mcpserver.settings import McpSettings, load_mcp_settings


def test_defaults_serve_loopback_with_operator_rights_for_the_local_user() -> None:
    s = McpSettings()
    assert (s.host, s.port, s.stdio_roles) == ("127.0.0.1", 8000, ["operator"])
    assert (s.rate_limit_per_minute, s.max_request_bytes) == (30, 65_536)
    assert not s.read_only and not s.enable_destroy and s.tokens is None and s.jwt_roles_claim == "datamcp_roles"


def test_values_come_from_datamcp_mcp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAMCP_MCP_PORT", "9001")
    monkeypatch.setenv("DATAMCP_MCP_STDIO_ROLES", '["viewer"]')
    monkeypatch.setenv("DATAMCP_MCP_READ_ONLY", "1")
    s = load_mcp_settings()
    assert (s.port, s.stdio_roles, s.read_only) == (9001, ["viewer"], True)


def test_explicit_values_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAMCP_MCP_PORT", "9001")
    assert load_mcp_settings(port=9002).port == 9002


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATAMCP_MCP_PORT", "0", "DATAMCP_MCP_PORT: Input should be greater than or equal to 1"),
        ("DATAMCP_MCP_PORT", "eighty", "DATAMCP_MCP_PORT: Input should be a valid integer"),
        ("DATAMCP_MCP_RATE_LIMIT_PER_MINUTE", "0", "DATAMCP_MCP_RATE_LIMIT_PER_MINUTE"),
        ("DATAMCP_MCP_MAX_REQUEST_BYTES", "10", "DATAMCP_MCP_MAX_REQUEST_BYTES"),
    ],
)
def test_bad_values_are_a_settings_error_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=f"^invalid settings: {message}"):
        load_mcp_settings()


def test_a_bad_explicit_value_is_a_settings_error_too() -> None:
    with pytest.raises(SettingsError, match="DATAMCP_MCP_PORT"):
        load_mcp_settings(port=70_000)
