"""A real OpenID Connect provider for the console's browser tests: Ory Hydra on loopback, with a tiny login/consent app.

Hydra (built into .tools/bin by `make bootstrap`) is the provider: discovery, JWKS, authorization and token endpoints,
signed ID tokens. It delegates login and consent to the small app below, which logs in whoever's name is typed into
its form (a test users table gives each name its roles) and accepts every consent, putting the user's roles into the
`datamcp_roles` claim of the ID token and of the access token's session.
"""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx

from engine.toolchain import HYDRA_VERSION, tool_version

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
LOOPBACK = "127.0.0.1"
ROLES_CLAIM = "datamcp_roles"

# Who can log in, and the roles the ID token gives them.
TEST_USERS: dict[str, tuple[str, ...]] = {
    "vera": ("viewer",),
    "alice": ("approver",),
    "bob": ("approver",),
    "ada": ("admin", "approver"),
    "otto": ("operator",),
}

AuthMethod = Literal["client_secret_basic", "client_secret_post", "none"]


class HarnessError(RuntimeError):
    """The identity provider could not be started, configured or stopped; the message says what to do."""


def find_hydra() -> Path:
    """The hydra binary of the pinned version (.tools/bin first, then PATH), or a HarnessError saying how to get it."""
    found = shutil.which("hydra", path=os.pathsep.join([str(TOOLS_BIN), os.environ.get("PATH", "")]))
    if found is None:
        raise HarnessError("hydra was not found in .tools/bin or on PATH; run `make bootstrap` to build it")
    version = tool_version("hydra", Path(found))
    if version != HYDRA_VERSION:
        raise HarnessError(f"{found} reports version {version!r}, the tests need {HYDRA_VERSION}; run `make bootstrap`")
    return Path(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        port: int = s.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((LOOPBACK, port)) == 0


@dataclass(frozen=True)
class OidcClient:
    """An OAuth2 client registered with Hydra; `client_secret` is None for a public client."""

    client_id: str
    client_secret: str | None
    token_endpoint_auth_method: AuthMethod
    redirect_uris: tuple[str, ...]
    scope: str


@dataclass
class IdentityProvider:
    """A running Hydra and its login/consent app; `users` may be changed by a test (name -> roles)."""

    issuer: str
    admin_url: str
    login_url: str
    users: dict[str, list[str]]
    client: OidcClient
    log_file: Path
    hydra_pid: int
    _admin: httpx.Client = field(repr=False)

    @property
    def client_id(self) -> str:
        return self.client.client_id

    @property
    def client_secret(self) -> str | None:
        return self.client.client_secret

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/.well-known/jwks.json"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/oauth2/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/oauth2/token"

    def register_client(
        self,
        redirect_uris: Iterable[str] = (),
        *,
        auth_method: AuthMethod = "client_secret_basic",
        scope: str = "openid profile",
        post_logout_redirect_uris: Iterable[str] = (),
    ) -> OidcClient:
        """Register an authorization-code client (PKCE allowed; required when `auth_method` is "none", a public one)."""
        body = {
            "client_name": "datamcp-console-test",
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "scope": scope,
            "redirect_uris": list(redirect_uris),
            "post_logout_redirect_uris": list(post_logout_redirect_uris),
            "token_endpoint_auth_method": auth_method,
        }
        created = self._call("POST", "/admin/clients", json=body)
        return OidcClient(
            client_id=created["client_id"],
            client_secret=created.get("client_secret") if auth_method != "none" else None,
            token_endpoint_auth_method=auth_method,
            redirect_uris=tuple(created.get("redirect_uris") or ()),
            scope=scope,
        )

    def add_redirect_uri(self, uri: str, client: OidcClient | None = None) -> OidcClient:
        """Allow one more redirect URI for `client` (the default client when None); returns the updated client."""
        target = client or self.client
        if uri in target.redirect_uris:
            return target
        patch = [{"op": "add", "path": "/redirect_uris/-", "value": uri}]
        updated = self._call("PATCH", f"/admin/clients/{target.client_id}", json=patch)
        result = OidcClient(
            client_id=target.client_id,
            client_secret=target.client_secret,
            token_endpoint_auth_method=target.token_endpoint_auth_method,
            redirect_uris=tuple(updated.get("redirect_uris") or ()),
            scope=target.scope,
        )
        if target.client_id == self.client.client_id:
            self.client = result
        return result

    def introspect(self, token: str) -> dict[str, Any]:
        """Hydra's view of an access token (`active`, `sub`, `ext` = the access token's session claims)."""
        answer = self._admin.post("/admin/oauth2/introspect", data={"token": token})
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    def log_in(self, page: Page, username: str) -> None:
        """In the browser, fill the login form that Hydra sent `page` to, and submit it (consent is automatic)."""
        page.wait_for_url(f"{self.login_url}/login?**")
        page.fill("input[name=username]", username)
        page.click("button[name=action][value=login]")

    def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        answer = self._admin.request(method, path, **kwargs)
        if answer.status_code >= 400:
            raise HarnessError(f"hydra admin {method} {path} answered {answer.status_code}: {answer.text}")
        result: dict[str, Any] = answer.json()
        return result


class _LoginConsentHandler(BaseHTTPRequestHandler):
    """Hydra's login, consent and logout pages; `server.admin` and `server.users` are set by start_login_app."""

    server: _LoginConsentServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests' output is pytest's

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        try:
            if url.path == "/login" and "login_challenge" in query:
                challenge = query["login_challenge"]
                request = self._admin("GET", "login", challenge)
                if request.get("skip"):  # Hydra already knows this user (a remembered session)
                    self._redirect(self._accept_login(challenge, request["subject"]))
                else:
                    self._form(challenge)
            elif url.path == "/consent" and "consent_challenge" in query:
                self._redirect(self._accept_consent(query["consent_challenge"]))
            elif url.path == "/logout" and "logout_challenge" in query:
                self._redirect(self._admin("PUT", "logout/accept", query["logout_challenge"])["redirect_to"])
            else:
                self._page(404, "<p>not found</p>")
        except HarnessError as exc:
            self._page(502, f"<p>{html.escape(str(exc))}</p>")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        challenge = form.get("challenge", "")
        try:
            if urlsplit(self.path).path != "/login" or not challenge:
                self._page(400, "<p>bad request</p>")
            elif form.get("action") == "deny":
                body = {"error": "access_denied", "error_description": "The user refused to log in."}
                self._redirect(self._admin("PUT", "login/reject", challenge, body)["redirect_to"])
            elif (username := form.get("username", "").strip()) not in self.server.users:
                self._form(challenge, error=f"unknown user {username!r}")
            else:
                self._redirect(self._accept_login(challenge, username))
        except HarnessError as exc:
            self._page(502, f"<p>{html.escape(str(exc))}</p>")

    def _accept_login(self, challenge: str, subject: str) -> str:
        body = {"subject": subject, "remember": False}
        redirect: str = self._admin("PUT", "login/accept", challenge, body)["redirect_to"]
        return redirect

    def _accept_consent(self, challenge: str) -> str:
        request = self._admin("GET", "consent", challenge)
        subject = request["subject"]
        roles = list(self.server.users.get(subject, []))
        claims = {ROLES_CLAIM: roles, "preferred_username": subject, "name": subject}
        body = {
            "grant_scope": request.get("requested_scope") or [],
            "grant_access_token_audience": request.get("requested_access_token_audience") or [],
            "remember": False,
            "session": {"id_token": claims, "access_token": {ROLES_CLAIM: roles}},
        }
        redirect: str = self._admin("PUT", "consent/accept", challenge, body)["redirect_to"]
        return redirect

    def _admin(self, method: str, flow: str, challenge: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        kind = flow.split("/")[0]
        path = f"/admin/oauth2/auth/requests/{flow}?{urlencode({f'{kind}_challenge': challenge})}"
        answer = self.server.admin.request(method, path, json=body)
        if answer.status_code >= 400:
            raise HarnessError(f"hydra admin {method} {path} answered {answer.status_code}: {answer.text}")
        result: dict[str, Any] = answer.json()
        return result

    def _form(self, challenge: str, error: str = "") -> None:
        message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
        names = ", ".join(sorted(self.server.users))
        self._page(
            200,
            f"""<h1>Test identity provider</h1>{message}
<form method="post" action="/login">
  <input type="hidden" name="challenge" value="{html.escape(challenge)}">
  <label>Username <input name="username" autocomplete="username" autofocus></label>
  <button type="submit" name="action" value="login">Log in</button>
  <button type="submit" name="action" value="deny">Deny</button>
</form>
<p>Test users: {html.escape(names)}</p>""",
        )

    def _page(self, status: int, body: str) -> None:
        data = f"<!doctype html><html><head><title>Test IdP</title></head><body>{body}</body></html>".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()


class _LoginConsentServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, admin: httpx.Client, users: dict[str, list[str]]) -> None:
        super().__init__((LOOPBACK, 0), _LoginConsentHandler)
        self.admin = admin
        self.users = users


def _wait_ready(process: subprocess.Popen[bytes], urls: list[str], log_file: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = list(urls)
    with httpx.Client(trust_env=False, timeout=2) as probe:
        while pending:
            if process.poll() is not None:
                raise HarnessError(f"hydra exited with {process.returncode} while starting:\n{_tail(log_file)}")
            if time.monotonic() > deadline:
                raise HarnessError(f"hydra was not ready after {timeout:.0f}s:\n{_tail(log_file)}")
            with contextlib.suppress(httpx.HTTPError):
                if probe.get(pending[0]).status_code == 200:
                    pending.pop(0)
                    continue
            time.sleep(0.1)


def _tail(log_file: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes], ports: Iterable[int]) -> None:
    """End hydra's whole process group, then check that nothing of it is left and its ports are closed."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise HarnessError(f"hydra's process group {process.pid} still has processes after it was stopped")
    still_open = [p for p in ports if port_open(p)]
    if still_open:
        raise HarnessError(f"ports {still_open} still answer after hydra was stopped")


@contextlib.contextmanager
def running_identity_provider(
    *,
    users: dict[str, Iterable[str]] | None = None,
    auth_method: AuthMethod = "client_secret_basic",
    jwt_access_tokens: bool = False,
    start_timeout: float = 30.0,
) -> Iterator[IdentityProvider]:
    """Start Hydra on free loopback ports with the login/consent app and one registered client; stop both after.

    The default client (`IdentityProvider.client`) has no redirect URI yet: add the test's with `add_redirect_uri`.
    Access tokens are opaque (read them with `introspect`) unless `jwt_access_tokens`.
    """
    hydra = find_hydra()
    table = {name: list(roles) for name, roles in (users if users is not None else TEST_USERS).items()}
    workdir = Path(tempfile.mkdtemp(prefix="datamcp-idp-"))
    log_file = workdir / "hydra.log"
    process: subprocess.Popen[bytes] | None = None
    ports: list[int] = []
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, True)
        admin_client = stack.enter_context(httpx.Client(trust_env=False, timeout=10))
        login_app = _LoginConsentServer(admin_client, table)
        login_thread = threading.Thread(target=login_app.serve_forever, name="idp-login-app", daemon=True)
        login_thread.start()

        def stop_login_app() -> None:
            login_app.shutdown()
            login_app.server_close()
            login_thread.join(timeout=10)

        stack.callback(stop_login_app)
        login_url = f"http://{LOOPBACK}:{login_app.server_address[1]}"

        for attempt in range(3):  # a free port can be taken between our probe and hydra's bind: try other ports
            public_port, admin_port = free_port(), free_port()
            issuer = f"http://{LOOPBACK}:{public_port}"
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(workdir),
                "DSN": "memory",
                "SECRETS_SYSTEM": secrets.token_urlsafe(32),
                "SERVE_PUBLIC_HOST": LOOPBACK,
                "SERVE_PUBLIC_PORT": str(public_port),
                "SERVE_ADMIN_HOST": LOOPBACK,
                "SERVE_ADMIN_PORT": str(admin_port),
                "URLS_SELF_ISSUER": issuer,
                "URLS_LOGIN": f"{login_url}/login",
                "URLS_CONSENT": f"{login_url}/consent",
                "URLS_LOGOUT": f"{login_url}/logout",
                "OAUTH2_PKCE_ENFORCED_FOR_PUBLIC_CLIENTS": "true",
                "STRATEGIES_ACCESS_TOKEN": "jwt" if jwt_access_tokens else "opaque",
                "LOG_LEVEL": "info",
            }
            with log_file.open("ab") as log:
                process = subprocess.Popen(
                    [str(hydra), "serve", "all", "--dev", "--sqa-opt-out"],
                    env=env,
                    cwd=workdir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            ports = [public_port, admin_port]
            try:
                _wait_ready(
                    process,
                    [f"{issuer}/health/ready", f"http://{LOOPBACK}:{admin_port}/health/ready"],
                    log_file,
                    start_timeout,
                )
                break
            except HarnessError:
                _stop(process, ports)
                if attempt == 2 or "address already in use" not in _tail(log_file).lower():
                    raise
        assert process is not None
        stack.callback(_stop, process, ports)

        admin_client.base_url = httpx.URL(f"http://{LOOPBACK}:{ports[1]}")
        provider = IdentityProvider(
            issuer=issuer,
            admin_url=f"http://{LOOPBACK}:{ports[1]}",
            login_url=login_url,
            users=table,
            client=OidcClient("", None, auth_method, (), ""),
            log_file=log_file,
            hydra_pid=process.pid,
            _admin=admin_client,
        )
        provider.client = provider.register_client(auth_method=auth_method)
        yield provider


def hydra_log(provider: IdentityProvider) -> str:
    """The end of Hydra's log, for an assertion message."""
    return _tail(provider.log_file)
