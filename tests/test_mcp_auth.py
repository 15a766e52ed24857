"""Production auth: JWT verification against a JWKS served on loopback, and roles from the configured claim only."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from engine.mcpserver.auth import auth_provider, principal_from_token
from engine.mcpserver.settings import McpSettings

KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
ISSUER = "https://issuer.example"
AUDIENCE = "datamcp"


@pytest.fixture
def jwks_uri() -> Iterator[str]:
    jwk = json.loads(RSAAlgorithm.to_jwk(KEY.public_key()))
    body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/jwks.json"
    server.shutdown()


def token(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": ISSUER, "aud": AUDIENCE, "sub": "otto@example", "iat": now, "exp": now + 300, **claims}
    return jwt.encode(body, KEY, algorithm="RS256", headers={"kid": "k1"})


def principal(settings: McpSettings, raw: str) -> Any:
    verifier = auth_provider(settings)

    async def verify() -> Any:
        access = await verifier.verify_token(raw)
        return principal_from_token(access, settings, "http", local_user="local-dev")

    return asyncio.run(verify())


def test_jwt_roles_come_from_the_configured_claim_only(jwks_uri: str) -> None:
    s = McpSettings(jwt_jwks_uri=jwks_uri, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    p = principal(s, token(datamcp_roles=["operator"]))
    assert p.name == "otto@example" and p.roles == ["operator"]
    assert principal(s, token(roles=["admin"])) is None  # someone else's claim grants nothing
    assert principal(s, token(datamcp_roles="viewer unknown")).roles == ["viewer"]


def test_bad_jwts_are_rejected(jwks_uri: str) -> None:
    s = McpSettings(jwt_jwks_uri=jwks_uri, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "mallory", "exp": int(time.time()) + 300, "datamcp_roles": ["admin"]},
        other,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    assert principal(s, forged) is None
    assert principal(s, token(aud="someone-else", datamcp_roles=["admin"])) is None
    assert principal(s, token(iss="https://evil.example", datamcp_roles=["admin"])) is None
    assert principal(s, token(exp=int(time.time()) - 10, datamcp_roles=["admin"])) is None


def test_jwt_settings_must_be_complete() -> None:
    from engine.errors import SettingsError

    with pytest.raises(SettingsError, match="ISSUER"):
        auth_provider(McpSettings(jwt_jwks_uri="http://127.0.0.1:1/jwks"))
    with pytest.raises(SettingsError, match="bearer tokens"):
        auth_provider(McpSettings())
