"""The console's rules without a browser: roles from the token, agents only ever viewers, CSRF, public URLs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from engine.console.app import check_public_url, console_app
from engine.console.auth import console_roles, csrf_ok
from engine.console.settings import ConsoleSettings
from engine.errors import SettingsError
from engine.operations import Engine
from engine.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize(
    ("claim", "roles"),
    [
        (["approver", "viewer"], ("viewer", "approver")),
        ("viewer approver admin", ("viewer", "approver", "admin")),
        (["operator", "root"], ()),
        (None, ()),
        ({"approver": True}, ()),
    ],
)
def test_only_known_console_roles_come_from_the_claim(claim: object, roles: tuple[str, ...]) -> None:
    assert console_roles(claim, "bob", frozenset()) == roles


def test_an_agent_principal_is_only_ever_a_viewer() -> None:
    assert console_roles(["approver", "admin"], "otto", frozenset({"otto"})) == ("viewer",)
    assert console_roles([], "otto", frozenset({"otto"})) == ()
    # however the token file spells it
    assert console_roles(["approver"], "ci-bot", frozenset({"CI-Bot"})) == ("viewer",)


def test_the_dev_login_is_refused_in_signed_mode(tmp_path: Path) -> None:
    engine = Engine(Settings(project_root=ROOT, state_dir=tmp_path / "state", approval_mode="signed"))
    with pytest.raises(SettingsError, match="dev mode only"):
        console_app(engine, ConsoleSettings(dev_login=True), "http://127.0.0.1:1", frozenset())


class FakeRequest:
    def __init__(self, session: dict[str, str]) -> None:
        self.session = session


@pytest.mark.parametrize(
    ("session", "form", "ok"),
    [
        ({"csrf": "t0ken"}, {"csrf": "t0ken"}, True),
        ({"csrf": "t0ken"}, {"csrf": "other"}, False),
        ({"csrf": "t0ken"}, {}, False),
        ({}, {"csrf": ""}, False),
    ],
)
def test_csrf_tokens_must_match_the_session(session: dict[str, str], form: dict[str, str], ok: bool) -> None:
    assert csrf_ok(FakeRequest(session), form) is ok  # type: ignore[arg-type]


def test_cookies_are_secure_except_on_loopback_and_plain_http_elsewhere_is_refused() -> None:
    assert check_public_url("http://127.0.0.1:8000") is False
    assert check_public_url("https://datamcp.example.com") is True
    with pytest.raises(SettingsError):
        check_public_url("http://datamcp.example.com")


def test_the_console_runs_on_its_own(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATAMCP_")}
    env |= {
        "DATAMCP_STATE_DIR": str(tmp_path / "state"),
        "DATAMCP_CONSOLE_DEV_LOGIN": "1",
        "XDG_STATE_HOME": str(tmp_path / "xdg"),
    }
    command = [sys.executable, "-m", "engine.console", "--port", str(port)]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout is not None
        assert process.stdout.readline().decode().strip() == f"Approval console: http://127.0.0.1:{port}/console"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/console/login", timeout=2) as page:
                    text = page.read().decode()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert "Dev login" in text and 'name="csrf"' in text
    finally:
        process.terminate()
        process.wait(30)
