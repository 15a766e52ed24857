"""The browser-test harness itself, with the real pieces: Hydra answers as an OpenID provider, and a real Chromium
logs a test user in through the authorization-code flow with PKCE."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2 as httpx
import pytest
from authlib.integrations.requests_client import OAuth2Session  # type: ignore[import-untyped]
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import Page

from tests.console.idp import (
    LOOPBACK,
    ROLES_CLAIM,
    TEST_USERS,
    IdentityProvider,
    OidcClient,
    port_open,
    running_identity_provider,
)

pytestmark = pytest.mark.slow  # runs hydra and chromium


class _Caught(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        body = b"<!doctype html><title>caught</title><p>redirect caught</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture(scope="module")
def callback_url() -> Iterator[str]:
    """A trivial relying party's redirect target on loopback: answers every GET with a small page."""
    server = ThreadingHTTPServer((LOOPBACK, 0), _Caught)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://{LOOPBACK}:{server.server_address[1]}/callback"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@dataclass
class SignIn:
    tokens: dict[str, Any]
    id_claims: dict[str, Any]


def sign_in(idp: IdentityProvider, client: OidcClient, page: Page, username: str, redirect_uri: str) -> SignIn:
    """The relying party's side of a login: authorization URL with PKCE (S256) and a nonce, the user's login in the
    browser, the code exchanged for tokens, the ID token verified against the provider's JWKS."""
    oauth = OAuth2Session(
        client.client_id,
        client.client_secret,
        scope="openid profile",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method=client.token_endpoint_auth_method,
    )
    oauth.trust_env = False  # loopback only, never through a proxy
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(16)
    url, state = oauth.create_authorization_url(idp.authorization_endpoint, code_verifier=verifier, nonce=nonce)
    page.goto(url)
    idp.log_in(page, username)
    page.wait_for_url(f"{redirect_uri}?**")
    tokens = oauth.fetch_token(idp.token_endpoint, authorization_response=page.url, code_verifier=verifier, state=state)
    jwks = KeySet.import_key_set(httpx.get(idp.jwks_url, trust_env=False).json())
    token = jwt.decode(tokens["id_token"], jwks)
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": idp.issuer},
        aud={"essential": True, "value": client.client_id},
        nonce={"essential": True, "value": nonce},
        exp={"essential": True},
    ).validate(token.claims)
    return SignIn(tokens=dict(tokens), id_claims=token.claims)


def test_discovery_document_and_jwks_answer(idp: IdentityProvider) -> None:
    discovery = httpx.get(idp.discovery_url, trust_env=False).json()
    assert discovery["issuer"] == idp.issuer
    assert discovery["authorization_endpoint"] == idp.authorization_endpoint
    assert discovery["token_endpoint"] == idp.token_endpoint
    assert discovery["jwks_uri"] == idp.jwks_url
    assert "S256" in discovery["code_challenge_methods_supported"]
    keys = httpx.get(idp.jwks_url, trust_env=False).json()["keys"]
    assert any(k["use"] == "sig" and k["kty"] == "RSA" for k in keys)


def test_alice_logs_in_in_the_browser_and_her_id_token_carries_her_roles(
    idp: IdentityProvider, browser_page: Page, callback_url: str
) -> None:
    client = idp.add_redirect_uri(callback_url)
    signed_in = sign_in(idp, client, browser_page, "alice", callback_url)
    assert signed_in.id_claims["sub"] == "alice"
    assert signed_in.id_claims[ROLES_CLAIM] == ["approver"]
    assert browser_page.text_content("p") == "redirect caught"
    access = idp.introspect(signed_in.tokens["access_token"])
    assert access["active"] and access["sub"] == "alice"
    assert access["ext"][ROLES_CLAIM] == ["approver"]


def test_a_public_client_signs_in_with_pkce_and_no_secret(
    idp: IdentityProvider, browser_page: Page, callback_url: str
) -> None:
    public = idp.register_client([callback_url], auth_method="none")
    assert public.client_secret is None
    signed_in = sign_in(idp, public, browser_page, "ada", callback_url)
    assert signed_in.id_claims["sub"] == "ada"
    assert signed_in.id_claims[ROLES_CLAIM] == list(TEST_USERS["ada"])


def test_an_unknown_user_stays_on_the_login_form(idp: IdentityProvider, browser_page: Page, callback_url: str) -> None:
    client = idp.add_redirect_uri(callback_url)
    oauth = OAuth2Session(client.client_id, client.client_secret, scope="openid profile", redirect_uri=callback_url)
    url, _ = oauth.create_authorization_url(idp.authorization_endpoint, nonce=secrets.token_urlsafe(16))
    browser_page.goto(url)
    idp.log_in(browser_page, "mallory")
    assert browser_page.text_content("[role=alert]") == "unknown user 'mallory'"
    assert browser_page.url.startswith(f"{idp.login_url}/login")


def test_the_provider_stops_without_leftovers() -> None:
    with running_identity_provider() as provider:
        ports = [int(u.rsplit(":", 1)[1]) for u in (provider.issuer, provider.admin_url, provider.login_url)]
        assert all(port_open(p) for p in ports)
        pid = provider.hydra_pid
    assert not any(port_open(p) for p in ports)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # hydra was its process group's leader: nothing of the group is left
