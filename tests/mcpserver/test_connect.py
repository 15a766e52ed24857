"""What `make run` prints to connect a client: each dev token with its principal and role, where they are kept, the
state dir in use, and client configs that reach this server's state."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from engine.access import load_tokens_file
from engine.mcpserver.connect import connection_help, dev_tokens, dev_tokens_file, plain_tokens_file
from engine.mcpserver.settings import McpSettings
from engine.settings import Settings


def configs(text: str) -> list[dict[str, Any]]:
    """The JSON client configs in the printed help, in order."""
    decoder = json.JSONDecoder()
    found = []
    for start in (i + 1 for i, char in enumerate(text) if char == "\n" and text[i + 1 : i + 2] == "{"):
        found.append(decoder.raw_decode(text, start)[0]["mcpServers"]["datamcp"])
    return found


def local(tmp_path: Path) -> Settings:
    return Settings(project_root=tmp_path / "project", state_dir=tmp_path / "my state", default_user="alice")


def test_each_token_is_printed_with_its_principal_and_role(tmp_path: Path) -> None:
    settings = local(tmp_path)
    tokens = dev_tokens(settings)
    text = connection_help(settings, McpSettings(port=8123), tokens, "/opt/venv/bin/python")
    assert {(t.principal, t.role) for t in tokens} == {("alice-agent", "operator"), ("alice-viewer", "viewer")}
    lines = text.splitlines()
    for token in tokens:
        [line] = [line for line in lines if token.token in line and "Bearer" not in line]
        assert line.split() == [token.principal, "role", token.role, "token", token.token]


def test_the_roles_shown_are_the_roles_the_server_grants(tmp_path: Path) -> None:
    settings = local(tmp_path)
    tokens = dev_tokens(settings)
    granted = load_tokens_file(dev_tokens_file(settings))
    assert {p.name: p.roles for p in granted.values()} == {t.principal: [t.role] for t in tokens}


def test_says_where_the_tokens_are_kept_readable_by_the_user_only(tmp_path: Path) -> None:
    settings = local(tmp_path)
    tokens = dev_tokens(settings)
    text = connection_help(settings, McpSettings(), tokens, "/opt/venv/bin/python")
    plain = plain_tokens_file(settings)
    assert f"kept in {plain}, mode 0600" in text
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600
    viewer = next(t for t in tokens if t.role == "viewer")
    assert json.loads(plain.read_text())[viewer.principal] == viewer.token
    assert dev_tokens(settings) == tokens  # made once, shown again on the next start


def test_names_the_state_dir_and_the_stdio_config_carries_it(tmp_path: Path) -> None:
    settings = local(tmp_path)
    text = connection_help(settings, McpSettings(), None, "/opt/venv/bin/python")
    assert f"State dir (DATAMCP_STATE_DIR): {settings.state_dir}" in text
    [stdio] = configs(text)
    assert stdio["command"] == "/opt/venv/bin/datamcp-mcp"
    assert stdio["env"] == {
        "DATAMCP_PROJECT_ROOT": str(settings.project_root),
        "DATAMCP_STATE_DIR": str(settings.state_dir),
    }


def test_the_http_config_uses_the_operator_token_of_this_server(tmp_path: Path) -> None:
    settings = local(tmp_path)
    tokens = dev_tokens(settings)
    text = connection_help(settings, McpSettings(host="127.0.0.1", port=8123), tokens, "/opt/venv/bin/python")
    stdio, http = configs(text)
    operator = next(t for t in tokens if t.role == "operator")
    assert http == {"url": "http://127.0.0.1:8123/mcp", "headers": {"Authorization": f"Bearer {operator.token}"}}
    assert stdio["env"]["DATAMCP_STATE_DIR"] == str(settings.state_dir)
    assert f"DATAMCP_STATE_DIR='{settings.state_dir}' datamcp approve <preview_id>" in text


def test_the_console_url_is_printed_next_to_the_endpoint_with_its_login(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = local(tmp_path)
    monkeypatch.setenv("DATAMCP_CONSOLE_DEV_LOGIN", "1")
    text = connection_help(settings, McpSettings(port=8123), dev_tokens(settings), "/opt/venv/bin/python")
    assert "Approval console (review and approve previews in a browser): http://127.0.0.1:8123/console" in text
    assert "[dev login (the name you type is trusted: a checkout only)]" in text
    monkeypatch.setenv("DATAMCP_CONSOLE_ENABLED", "false")
    assert "/console" not in connection_help(settings, McpSettings(port=8123), None, "/opt/venv/bin/python")
