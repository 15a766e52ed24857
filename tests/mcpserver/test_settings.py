"""The MCP server's settings: read from DATAMCP_MCP_* variables, bad values are one typed error naming the variable."""

from __future__ import annotations

import os

import pytest

from engine.errors import SettingsError
from engine.mcpserver.http import allowed_hosts, allowed_origins
from engine.mcpserver.settings import McpSettings, load_mcp_settings


def test_defaults_serve_loopback_with_operator_rights_for_the_local_user() -> None:
    s = McpSettings()
    assert (s.host, s.port, s.stdio_roles) == ("127.0.0.1", 8000, ["operator"])
    assert (s.rate_limit_per_minute, s.read_rate_limit_per_minute, s.max_request_bytes) == (30, 60, 65_536)
    assert (s.max_concurrent_cli, s.cli_wait_seconds, s.jwt_leeway_seconds) == (max(2, os.cpu_count() or 2), 10, 60)
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
        ("DATAMCP_MCP_MAX_CONCURRENT_CLI", "0", "DATAMCP_MCP_MAX_CONCURRENT_CLI"),
        ("DATAMCP_MCP_ALLOWED_HOSTS", " , ", "DATAMCP_MCP_ALLOWED_HOSTS: name at least one"),
        ("DATAMCP_MCP_ALLOWED_ORIGINS", "[]", "DATAMCP_MCP_ALLOWED_ORIGINS: name at least one"),
        ("DATAMCP_MCP_ALLOWED_HOSTS", "[unclosed", "DATAMCP_MCP_ALLOWED_HOSTS"),
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


def test_the_allowlists_default_to_the_loopback_names_with_the_port() -> None:
    s = McpSettings(port=9000)
    assert allowed_hosts(s) == ["127.0.0.1:9000", "localhost:9000", "[::1]:9000"]
    assert "http://localhost:9000" in allowed_origins(s) and "https://[::1]:9000" in allowed_origins(s)
    assert allowed_hosts(McpSettings(host="10.0.0.5", port=9000))[-1] == "10.0.0.5:9000"  # a specific bind address
    assert "0.0.0.0:9000" not in allowed_hosts(McpSettings(host="0.0.0.0", port=9000))  # noqa: S104


@pytest.mark.parametrize("value", ["MCP.example.com, mcp.internal:8443", '["mcp.example.com", "MCP.internal:8443"]'])
def test_allowed_hosts_are_a_comma_separated_or_json_list(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("DATAMCP_MCP_ALLOWED_HOSTS", value)
    s = load_mcp_settings()
    assert allowed_hosts(s) == ["mcp.example.com", "mcp.internal:8443"]
    assert allowed_origins(s) == [
        "http://mcp.example.com",
        "https://mcp.example.com",
        "http://mcp.internal:8443",
        "https://mcp.internal:8443",
    ]
    monkeypatch.setenv("DATAMCP_MCP_ALLOWED_ORIGINS", "https://console.example.com/")
    assert allowed_origins(load_mcp_settings()) == ["https://console.example.com"]
