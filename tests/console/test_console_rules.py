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
from engine.console.auth import (
    Person,
    console_roles,
    csrf_ok,
    csrf_token,
    current,
    oidc_client,
    person_from_claims,
    start_session,
)
from engine.console.settings import ConsoleSettings
from engine.errors import InvalidIdentity, SettingsError
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


class Session:
    def __init__(self, session: dict[str, object] | None = None) -> None:
        self.session: dict[str, object] = session if session is not None else {}


def test_a_session_holds_the_person_their_roles_and_a_fresh_csrf_token() -> None:
    request = Session({"next": "/console/x", "stale": 1})
    start_session(request, Person("bob", ("viewer", "approver"), "oidc"), {"issuer": "https://id"})  # type: ignore[arg-type]
    session = request.session
    assert session["user"] == "bob" and session["roles"] == ["viewer", "approver"] and session["via"] == "oidc"
    assert session["issuer"] == "https://id" and "next" not in session and "stale" not in session
    assert len(str(session["csrf"])) >= 40 and abs(int(session["login_at"]) - time.time()) < 5  # type: ignore[call-overload]
    other = Session()
    start_session(other, Person("bob", ("viewer",), "oidc"), {})  # type: ignore[arg-type]
    assert other.session["csrf"] != session["csrf"]
    assert csrf_token(request) == session["csrf"]  # type: ignore[arg-type]
    assert current(request, 3600) == Person("bob", ("viewer", "approver"), "oidc")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "session",
    [
        {},
        {"user": "bob"},
        {"user": "bob", "roles": "approver", "login_at": 0},
        {"user": 7, "roles": ["approver"], "login_at": 0},
    ],
)
def test_no_person_without_a_whole_session(session: dict[str, object]) -> None:
    assert current(Session(session)) is None  # type: ignore[arg-type]


def test_an_old_login_ends_the_session_and_unknown_roles_are_dropped() -> None:
    old = Session({"user": "bob", "roles": ["approver", "root"], "via": "oidc", "login_at": int(time.time()) - 100})
    assert current(old) == Person("bob", ("approver",), "oidc")  # type: ignore[arg-type]
    assert current(old, 3600) == Person("bob", ("approver",), "oidc")  # type: ignore[arg-type]
    assert current(old, 50) is None and old.session == {}  # type: ignore[arg-type]
    assert current(Session({"user": "bob", "roles": ["viewer"], "login_at": "0"}), 50) is None  # type: ignore[arg-type]


def test_who_can_do_what() -> None:
    approver = Person("bob", ("approver",), "oidc")
    assert approver.can("approver") and approver.can("viewer") and not approver.can("admin")
    assert not Person("x", (), "oidc").can("viewer")
    assert Person("v", ("viewer",), "dev").can("viewer") and not Person("v", ("viewer",), "dev").can("approver")


def test_claims_become_a_person_in_normal_form() -> None:
    settings = ConsoleSettings(roles_claim="groups")
    person = person_from_claims(
        {"sub": "Bob", "groups": ["approver"], "datamcp_roles": ["admin"]}, settings, frozenset()
    )
    assert person == Person("bob", ("approver",), "oidc")
    with pytest.raises(InvalidIdentity):
        person_from_claims({"groups": ["approver"]}, settings, frozenset())


def test_the_identity_provider_client_always_uses_pkce() -> None:
    public = oidc_client(ConsoleSettings(oidc_issuer="https://id.example/", oidc_client_id="c"))
    assert public.client_kwargs == {
        "scope": "openid profile",
        "code_challenge_method": "S256",
        "token_endpoint_auth_method": "none",
    }
    assert public._server_metadata_url == "https://id.example/.well-known/openid-configuration"
    confidential = oidc_client(ConsoleSettings(oidc_issuer="https://id", oidc_client_id="c", oidc_client_secret="s"))
    assert confidential.client_kwargs == {"scope": "openid profile", "code_challenge_method": "S256"}
    assert (confidential.client_id, confidential.client_secret) == ("c", "s")


@pytest.mark.parametrize("guess", ["None", "XXXX", ""])
def test_a_session_without_a_token_accepts_no_form(guess: str) -> None:
    assert csrf_token(Session()) == ""  # type: ignore[arg-type]
    assert not csrf_ok(Session(), {"csrf": guess})  # type: ignore[arg-type]


def test_an_agents_login_is_a_viewer_and_an_issuer_keeps_its_own_path() -> None:
    settings = ConsoleSettings()
    assert person_from_claims({"sub": "Otto", "datamcp_roles": ["approver"]}, settings, frozenset({"otto"})).roles == (
        "viewer",
    )
    client = oidc_client(ConsoleSettings(oidc_issuer="https://id.example/realmX/", oidc_client_id="c"))
    assert client._server_metadata_url == "https://id.example/realmX/.well-known/openid-configuration"
