"""Production auth: JWT verification against a JWKS served on loopback, the time claims, roles from the configured
claim only, and principals that must be usable names."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from engine.errors import SettingsError
from engine.mcpserver.auth import auth_provider, principal_from_token
from engine.mcpserver.jwt_verifier import time_claims_problem
from engine.mcpserver.settings import McpSettings

HOUR = 3600


def settings_for(issuer: Any, **extra: Any) -> McpSettings:
    return McpSettings(jwt_jwks_uri=issuer.jwks_uri, jwt_issuer=issuer.issuer, jwt_audience=issuer.audience, **extra)


def principal(settings: McpSettings, raw: str) -> Any:
    verifier = auth_provider(settings)

    async def verify() -> Any:
        access = await verifier.verify_token(raw)
        return principal_from_token(access, settings, "http", local_user="local-dev")

    return asyncio.run(verify())


def test_jwt_roles_come_from_the_configured_claim_only(jwt_issuer: Any) -> None:
    s = settings_for(jwt_issuer)
    p = principal(s, jwt_issuer.token(datamcp_roles=["operator"]))
    assert p.name == "otto@example" and p.roles == ["operator"]
    assert principal(s, jwt_issuer.token(roles=["admin"])) is None  # someone else's claim grants nothing
    assert principal(s, jwt_issuer.token(datamcp_roles="viewer unknown")).roles == ["viewer"]
    assert principal(s, jwt_issuer.token(datamcp_roles={"admin": True})) is None  # not a list: no roles


def test_bad_jwts_are_rejected(jwt_issuer: Any) -> None:
    s = settings_for(jwt_issuer)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"iss": jwt_issuer.issuer, "aud": "datamcp", "sub": "mallory", "exp": int(time.time()) + 300,
         "datamcp_roles": ["admin"]},
        other,
        algorithm="RS256",
        headers={"kid": "k1"},
    )  # fmt: skip
    assert principal(s, forged) is None
    assert principal(s, jwt_issuer.token(aud="someone-else", datamcp_roles=["admin"])) is None
    assert principal(s, jwt_issuer.token(iss="https://evil.example", datamcp_roles=["admin"])) is None
    assert principal(s, jwt_issuer.token(exp=int(time.time()) - 10, datamcp_roles=["admin"])) is None


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"exp": None}, id="no-exp"),
        pytest.param({"exp": "tomorrow"}, id="exp-not-a-number"),
        pytest.param({"nbf": int(time.time()) + HOUR}, id="nbf-an-hour-ahead"),
        pytest.param({"iat": int(time.time()) + HOUR}, id="iat-in-the-future"),
        pytest.param({"nbf": "soon"}, id="nbf-not-a-number"),
    ],
)
def test_jwts_must_expire_and_be_valid_now(jwt_issuer: Any, claims: dict[str, Any]) -> None:
    assert principal(settings_for(jwt_issuer), jwt_issuer.token(datamcp_roles=["admin"], **claims)) is None


def test_clock_skew_within_the_leeway_is_accepted(jwt_issuer: Any) -> None:
    skewed = jwt_issuer.token(datamcp_roles=["viewer"], nbf=int(time.time()) + 30, iat=int(time.time()) + 30)
    assert principal(settings_for(jwt_issuer), skewed).roles == ["viewer"]
    assert principal(settings_for(jwt_issuer, jwt_leeway_seconds=0), skewed) is None


def test_time_claims_rules() -> None:
    now = 1_000_000.0
    assert time_claims_problem({"exp": now + 10}, now, 60) is None
    assert "no valid exp" in str(time_claims_problem({}, now, 60))
    assert "no valid exp" in str(time_claims_problem({"exp": True}, now, 60))
    assert "expired" in str(time_claims_problem({"exp": now - 1}, now, 60))
    assert time_claims_problem({"exp": now + 10, "nbf": now + 60}, now, 60) is None
    assert "nbf" in str(time_claims_problem({"exp": now + 10, "nbf": now + 61}, now, 60))
    assert "iat" in str(time_claims_problem({"exp": now + 10, "iat": now + 61}, now, 60))


def test_a_subject_that_is_no_principal_name_is_refused_without_a_traceback(
    jwt_issuer: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = jwt_issuer.token(sub="bad name; " + "x" * 5000, datamcp_roles=["admin"])
    assert principal(settings_for(jwt_issuer), bad) is None
    assert "not a usable principal name" in caplog.text
    assert "Traceback" not in caplog.text and "x" * 200 not in caplog.text
    assert all(r.exc_info is None for r in caplog.records)


def test_jwt_settings_must_be_complete() -> None:
    with pytest.raises(SettingsError, match="ISSUER"):
        auth_provider(McpSettings(jwt_jwks_uri="http://127.0.0.1:1/jwks"))
    with pytest.raises(SettingsError, match="bearer tokens"):
        auth_provider(McpSettings())
